import { describe, expect, it } from 'vitest';
import { backoffDelay, buildNotifyUrl, buildStatusUrl, buildStreamUrl } from '../src/index.js';

describe('URLs', () => {
  it('builds the audit and job stream paths', () => {
    expect(buildStreamUrl({ baseUrl: 'https://h.example', kind: 'audit', id: 123 })).toBe(
      'https://h.example/api/v1/sse/audits/123/progress',
    );
    expect(buildStreamUrl({ baseUrl: 'https://h.example/', kind: 'job', id: 9 })).toBe(
      'https://h.example/api/v1/sse/jobs/9/progress',
    );
  });

  it('defaults to generic jobs on the same origin', () => {
    expect(buildStreamUrl({ id: 5 })).toBe('/api/v1/sse/jobs/5/progress');
    expect(buildStatusUrl({ id: 5 })).toBe('/api/v1/jobs/5/status');
  });

  it('adds the token and last_event_id query parameters, encoded', () => {
    expect(buildStreamUrl({ baseUrl: 'http://h', kind: 'audit', id: 1, token: 'a.b+c/d=', lastEventId: 42 })).toBe(
      'http://h/api/v1/sse/audits/1/progress?token=a.b%2Bc%2Fd%3D&last_event_id=42',
    );
    expect(buildStreamUrl({ baseUrl: 'http://h', id: 1, lastEventId: 0 })).toBe(
      'http://h/api/v1/sse/jobs/1/progress?last_event_id=0',
    );
    expect(buildStreamUrl({ baseUrl: 'http://h', id: 1, token: null, lastEventId: null })).toBe(
      'http://h/api/v1/sse/jobs/1/progress',
    );
  });

  it('builds the status (polling) and notification URLs', () => {
    expect(buildStatusUrl({ baseUrl: 'http://h', kind: 'audit', id: 3 })).toBe('http://h/api/v1/audits/3/status');
    expect(buildStatusUrl({ baseUrl: 'http://h', kind: 'job', id: 3 })).toBe('http://h/api/v1/jobs/3/status');
    expect(buildNotifyUrl({ baseUrl: 'http://h', token: 't' })).toBe('http://h/notify/events?token=t');
  });

  it('encodes the id', () => {
    expect(buildStatusUrl({ id: '1/../2' })).toBe('/api/v1/jobs/1%2F..%2F2/status');
  });
});

describe('backoffDelay', () => {
  it('starts at the server retry (5000 ms) and doubles per consecutive failure, up to the cap', () => {
    const none = () => 0;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, {}, none))).toEqual([5000, 10000, 20000, 40000, 60000, 60000]);
  });

  it('honours another retry value and cap', () => {
    const none = () => 0;
    expect(backoffDelay(1, { initialMs: 2000 }, none)).toBe(2000);
    expect(backoffDelay(3, { initialMs: 2000, maxMs: 5000 }, none)).toBe(5000);
    expect(backoffDelay(3, { initialMs: 1000, factor: 3 }, none)).toBe(9000);
  });

  it('adds jitter within [delay, delay × (1 + jitter)], never below the retry', () => {
    for (let i = 0; i <= 100; i++) {
      const r = i / 100;
      const d = backoffDelay(2, {}, () => r);
      expect(d).toBeGreaterThanOrEqual(10000);
      expect(d).toBeLessThanOrEqual(15000);
      const e = backoffDelay(1, { jitter: 0.2 }, () => r);
      expect(e).toBeGreaterThanOrEqual(5000);
      expect(e).toBeLessThanOrEqual(6000);
    }
    expect(backoffDelay(2, { jitter: 0 }, () => 0.9)).toBe(10000);
    // A broken random source cannot push it out of bounds.
    expect(backoffDelay(1, {}, () => 7)).toBe(7500);
    expect(backoffDelay(1, {}, () => -1)).toBe(5000);
  });
});

describe('types', () => {
  it("accepts the platform's EventSource and fetch (type-level check)", async () => {
    const { watchJob } = await import('../src/index.js');
    type Opts = Parameters<typeof watchJob>[0];
    const ES = (globalThis as { EventSource?: typeof EventSource }).EventSource;
    // No casts: these assignments are what `npm run typecheck` checks.
    const opts: Opts = { id: 1, eventSourceImpl: ES ?? null, fetchImpl: fetch };
    const direct = (): Opts => ({ id: 1, eventSourceImpl: EventSource, fetchImpl: globalThis.fetch }); // never called: Node has no EventSource
    expect(typeof direct).toBe('function');
    expect(opts.fetchImpl).toBe(fetch);
  });
});
