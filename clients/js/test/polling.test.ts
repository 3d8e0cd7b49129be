import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  watchJob,
  type ConnectionState,
  type HeraldError,
  type ProgressMeta,
  type ProgressPayload,
  type WatchJobOptions,
} from '../src/index.js';
import { completed, FakeEventSource, fakeFetch, running, type FakeReply } from './fakes.js';

function setup(opts: Partial<WatchJobOptions> = {}, ...replies: FakeReply[]) {
  const fetch = fakeFetch(...replies);
  const delivered: Array<{ payload: ProgressPayload; meta: ProgressMeta }> = [];
  const states: ConnectionState[] = [];
  const errors: HeraldError[] = [];
  const sub = watchJob(
    { baseUrl: 'http://herald.test', kind: 'audit', id: 7, fetchImpl: fetch, random: () => 0, ...opts },
    {
      onProgress: (payload, meta) => delivered.push({ payload, meta }),
      onState: (s) => states.push(s),
      onError: (e) => errors.push(e),
    },
  );
  const seqs = () => delivered.map((d) => d.meta.id);
  return { sub, fetch, delivered, states, errors, seqs };
}

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('without EventSource', () => {
  it('polls /status at once when there is no global EventSource', async () => {
    expect((globalThis as { EventSource?: unknown }).EventSource).toBeUndefined();
    const t = setup({ token: 'tok' }, { body: running(2, 20) });
    expect(t.sub.state).toBe('polling');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.fetch.calls).toHaveLength(1);
    const call = t.fetch.calls[0]!;
    expect(call.url).toBe('http://herald.test/api/v1/audits/7/status');
    expect(call.init?.headers?.Authorization).toBe('Bearer tok');
    expect(call.init?.credentials).toBe('same-origin');
    expect(t.seqs()).toEqual([2]);
    expect(t.delivered[0]!.meta.source).toBe('poll');
    t.sub.close();
  });

  it('sends cookies with withCredentials and no Authorization header without a token', async () => {
    const t = setup({ eventSourceImpl: null, withCredentials: true }, { body: running(2, 20) });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.fetch.calls[0]!.init?.credentials).toBe('include');
    expect(t.fetch.calls[0]!.init?.headers?.Authorization).toBeUndefined();
    t.sub.close();
  });

  it('polls every 5 s by default', async () => {
    const t = setup({ eventSourceImpl: null }, { body: running(2, 20) });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.fetch.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(t.fetch.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.fetch.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(t.fetch.calls).toHaveLength(3);
    t.sub.close();
  });

  it('keeps the interval within 5–10 s, jitter included', async () => {
    for (const [asked, random, expected] of [
      [1000, 0, 5000],
      [20000, 0, 10000],
      [7000, 0, 7000],
      [5000, 0.999, 5999],
      [9000, 0.999, 10000],
    ] as const) {
      const t = setup({ eventSourceImpl: null, pollIntervalMs: asked, random: () => random }, { body: running(2, 20) });
      await vi.advanceTimersByTimeAsync(0);
      await vi.advanceTimersByTimeAsync(expected - 1);
      expect(t.fetch.calls, `asked ${asked}`).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(t.fetch.calls, `asked ${asked}`).toHaveLength(2);
      t.sub.close();
    }
  });

  it('accepts another interval when clamping is turned off', async () => {
    const t = setup({ eventSourceImpl: null, pollIntervalMs: 1000, clampPollInterval: false }, { body: running(2, 20) });
    await vi.advanceTimersByTimeAsync(3000);
    expect(t.fetch.calls).toHaveLength(4);
    t.sub.close();
  });

  it('delivers only new states and stops on the terminal one', async () => {
    const t = setup(
      { eventSourceImpl: null },
      { body: running(2, 20) },
      { body: running(2, 20) },
      { body: running(4, 60) },
      { body: completed(5) },
    );
    await vi.advanceTimersByTimeAsync(15_000);
    expect(t.seqs()).toEqual([2, 4, 5]);
    expect(t.sub.state).toBe('closed');
    expect(t.sub.closeReason).toBe('terminal');
    expect(t.states).toEqual(['closed']);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.fetch.calls).toHaveLength(4);
  });

  it('compares whole payloads when the server gives no seq', async () => {
    const { seq: _a, ...a } = running(0, 20);
    const { seq: _b, ...b } = running(0, 30);
    const t = setup({ eventSourceImpl: null }, { body: a }, { body: a }, { body: b });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.delivered.map((d) => d.payload.progress)).toEqual([20, 30]);
    t.sub.close();
  });

  it('stops with a fatal error on 401', async () => {
    const t = setup({ eventSourceImpl: null }, { status: 401, body: { error: 'Invalid token' } });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.sub.state).toBe('closed');
    expect(t.sub.closeReason).toBe('error');
    expect(t.errors[0]!.status).toBe(401);
    expect(t.errors[0]!.fatal).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps polling through transient errors and waits for Retry-After on 429', async () => {
    const t = setup(
      { eventSourceImpl: null },
      { status: 503, body: { error: 'Service unavailable' } },
      new TypeError('network down'),
      { status: 429, headers: { 'Retry-After': '30' }, body: { error: 'Too many requests' } },
      { body: running(3, 30) },
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.fetch.calls).toHaveLength(3);
    expect(t.errors.map((e) => [e.status, e.fatal])).toEqual([
      [503, false],
      [undefined, false],
      [429, false],
    ]);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(t.fetch.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.fetch.calls).toHaveLength(4);
    expect(t.seqs()).toEqual([3]);
    expect(t.sub.state).toBe('polling');
    t.sub.close();
  });

  it('aborts a request in flight and leaves no timer on close', async () => {
    const t = setup({ eventSourceImpl: null }, 'hang');
    await vi.advanceTimersByTimeAsync(0);
    const signal = t.fetch.calls[0]!.init?.signal;
    expect(signal?.aborted).toBe(false);
    t.sub.close();
    expect(signal?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.errors).toEqual([]);
  });

  it('fails at once when there is neither EventSource nor fetch', () => {
    const t = setup({ eventSourceImpl: null, fetchImpl: null });
    expect(t.sub.state).toBe('closed');
    expect(t.sub.error?.fatal).toBe(true);
  });
});

describe('after repeated stream failures', () => {
  function failThrice(t: ReturnType<typeof setup>) {
    const first = FakeEventSource.last;
    first.open();
    first.message(2, running(2, 20));
    first.drop(); // 1: EventSource retries by itself
    first.drop(); // 2: our reconnect after 10 s
    return vi.advanceTimersByTimeAsync(10_000).then(() => {
      FakeEventSource.last.drop(); // 3: polling
    });
  }

  it('switches to polling, which resumes from the last event', async () => {
    const t = setup({ eventSourceImpl: FakeEventSource }, { body: running(2, 20) }, { body: running(3, 30) });
    await failThrice(t);
    expect(t.sub.state).toBe('polling');
    expect(t.states).toEqual(['live', 'reconnecting', 'polling']);
    expect(FakeEventSource.instances.every((es) => es.readyState === FakeEventSource.CLOSED)).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.fetch.calls).toHaveLength(1);
    expect(t.seqs()).toEqual([2]); // seq 2 again: not delivered twice
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.seqs()).toEqual([2, 3]);
    t.sub.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tries the stream again while polling and goes back to live on its first event', async () => {
    const t = setup({ eventSourceImpl: FakeEventSource, streamRetryWhilePollingMs: 60_000 }, { body: running(2, 20) });
    await failThrice(t);
    const before = FakeEventSource.instances.length;
    await vi.advanceTimersByTimeAsync(59_999);
    expect(FakeEventSource.instances).toHaveLength(before);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.instances).toHaveLength(before + 1);
    const probe = FakeEventSource.last;
    expect(probe.query.get('last_event_id')).toBe('2');
    probe.open();
    expect(t.sub.state).toBe('polling'); // open alone proves nothing
    const polls = t.fetch.calls.length;
    probe.message(3, running(3, 30));
    expect(t.sub.state).toBe('live');
    expect(t.seqs()).toEqual([2, 3]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(t.fetch.calls).toHaveLength(polls); // polling stopped
    probe.message(4, completed(4));
    expect(t.sub.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps polling when the trial stream fails, and tries again later', async () => {
    const t = setup({ eventSourceImpl: FakeEventSource, streamRetryWhilePollingMs: 60_000 }, { body: running(2, 20) });
    await failThrice(t);
    await vi.advanceTimersByTimeAsync(60_000);
    const probe = FakeEventSource.last;
    probe.fail();
    expect(probe.closeCalls).toBe(1);
    expect(t.sub.state).toBe('polling');
    const count = FakeEventSource.instances.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.instances).toHaveLength(count + 1);
    t.sub.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never tries the stream again with streamRetryWhilePollingMs 0', async () => {
    const t = setup({ eventSourceImpl: FakeEventSource, streamRetryWhilePollingMs: 0 }, { body: running(2, 20) });
    await failThrice(t);
    const count = FakeEventSource.instances.length;
    await vi.advanceTimersByTimeAsync(600_000);
    expect(FakeEventSource.instances).toHaveLength(count);
    expect(t.sub.state).toBe('polling');
    t.sub.close();
  });
});
