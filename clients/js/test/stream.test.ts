import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HeraldError,
  watchAudit,
  watchJob,
  type ConnectionState,
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
    {
      baseUrl: 'http://herald.test',
      id: 7,
      eventSourceImpl: FakeEventSource,
      fetchImpl: fetch,
      random: () => 0,
      ...opts,
    },
    {
      onProgress: (payload, meta) => delivered.push({ payload, meta }),
      onState: (s) => states.push(s),
      onError: (e) => errors.push(e),
    },
  );
  const seqs = () => delivered.map((d) => d.meta.id);
  return { sub, fetch, delivered, states, errors, seqs };
}

const ticket = (value: string): FakeReply => ({ status: 201, body: { ticket: value, expires_in: 60 } });

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('connecting', () => {
  it('opens the job stream with a single-use ticket bought with the token, never the token itself', async () => {
    const t = setup({ token: 'tok' }, ticket('tk1'));
    expect(FakeEventSource.instances).toHaveLength(0); // the ticket first
    await vi.advanceTimersByTimeAsync(0);
    expect(t.fetch.calls).toHaveLength(1);
    const call = t.fetch.calls[0]!;
    expect(call.url).toBe('http://herald.test/api/v1/sse/tickets');
    expect(call.init?.method).toBe('POST');
    expect(call.init?.headers?.Authorization).toBe('Bearer tok');
    expect(JSON.parse(call.init!.body!)).toEqual({ job_id: 7 });
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(FakeEventSource.last.url).toBe('http://herald.test/api/v1/sse/jobs/7/progress?ticket=tk1');
    expect(FakeEventSource.last.withCredentials).toBe(false);
    expect(t.sub.state).toBe('connecting');
    FakeEventSource.last.open();
    expect(t.sub.state).toBe('live');
    expect(t.states).toEqual(['live']);
    t.sub.close();
  });

  it("with streamAuth: 'token' the token goes in the stream URL", () => {
    const t = setup({ token: 'tok', streamAuth: 'token' });
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(FakeEventSource.last.url).toBe('http://herald.test/api/v1/sse/jobs/7/progress?token=tok');
    expect(t.fetch.calls).toHaveLength(0);
    t.sub.close();
  });

  it('an audit ticket names the audit', async () => {
    const fetch = fakeFetch(ticket('a1'));
    const sub = watchAudit(12, { baseUrl: 'http://h', token: 'tok', eventSourceImpl: FakeEventSource, fetchImpl: fetch }, () => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(JSON.parse(fetch.calls[0]!.init!.body!)).toEqual({ audit_id: 12 });
    expect(FakeEventSource.last.url).toBe('http://h/api/v1/sse/audits/12/progress?ticket=a1');
    sub.close();
  });

  it('uses cookies with withCredentials and no token in the URL', () => {
    const t = watchAudit(12, { baseUrl: 'http://h', eventSourceImpl: FakeEventSource, withCredentials: true }, () => {});
    expect(FakeEventSource.last.url).toBe('http://h/api/v1/sse/audits/12/progress');
    expect(FakeEventSource.last.withCredentials).toBe(true);
    t.close();
  });

  it('resumes from a given lastEventId', () => {
    const t = setup({ lastEventId: 4 });
    expect(FakeEventSource.last.query.get('last_event_id')).toBe('4');
    FakeEventSource.last.message(4, running(4, 40)); // not newer: ignored
    FakeEventSource.last.message(5, running(5, 50));
    expect(t.seqs()).toEqual([5]);
    t.sub.close();
  });

  it('asks a token function before each connection', async () => {
    let n = 0;
    const t = setup({ token: async () => `t${++n}`, streamAuth: 'token' });
    expect(FakeEventSource.instances).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.last.query.get('token')).toBe('t1');
    FakeEventSource.last.drop();
    FakeEventSource.last.drop(); // second failure: our own reconnect, with a fresh token
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.last.query.get('token')).toBe('t2');
    t.sub.close();
  });
});

describe('stream tickets', () => {
  it('after a drop it reconnects itself with a new ticket and last_event_id, never reusing the old one', async () => {
    let n = 0;
    const t = setup({ token: async () => `t${++n}` }, ticket('tk1'), ticket('tk2'));
    await vi.advanceTimersByTimeAsync(0);
    const first = FakeEventSource.last;
    expect(first.query.get('ticket')).toBe('tk1');
    first.open();
    first.message(3, running(3, 30));
    first.drop(); // EventSource would retry with the used ticket: closed instead
    expect(first.closeCalls).toBe(1);
    expect(t.sub.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(7_500);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(t.fetch.calls[1]!.init?.headers?.Authorization).toBe('Bearer t2');
    expect(FakeEventSource.last.query.get('ticket')).toBe('tk2');
    expect(FakeEventSource.last.query.get('last_event_id')).toBe('3');
    expect(FakeEventSource.last.query.get('token')).toBeNull();
    FakeEventSource.last.message(4, running(4, 40));
    expect(t.seqs()).toEqual([3, 4]);
    t.sub.close();
  });

  it('a refused ticket (401: the token is bad or expired) ends the watch', async () => {
    const t = setup({ token: 'old' }, { status: 401, body: { error: 'token expired' } });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(t.sub.state).toBe('closed');
    expect(t.sub.closeReason).toBe('error');
    expect(t.sub.error?.status).toBe(401);
    expect(t.sub.error?.fatal).toBe(true);
    expect(t.sub.error?.message).toContain('token expired');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a ticket that cannot be had now (503) counts as a failed connection: backoff, then polling', async () => {
    const t = setup(
      { token: 'tok', maxFailuresBeforePolling: 2 },
      { status: 503, body: { error: 'database unavailable' } },
      { status: 503, body: { error: 'database unavailable' } },
      { body: running(5, 50) },
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(t.sub.state).toBe('reconnecting');
    expect(t.errors[0]?.status).toBe(503);
    expect(t.errors[0]?.fatal).toBe(false);
    await vi.advanceTimersByTimeAsync(7_500);
    expect(t.sub.state).toBe('polling');
    expect(t.fetch.calls[2]!.url).toBe('http://herald.test/api/v1/jobs/7/status');
    expect(t.seqs()).toEqual([5]);
    expect(t.delivered[0]!.payload.progress).toBe(50);
    expect(FakeEventSource.instances).toHaveLength(0);
    t.sub.close();
  });

  it('a server without tickets (404 no such endpoint): the token goes in the URL, said once', async () => {
    const t = setup({ token: 'tok' }, { status: 404, body: { error: 'no such endpoint' } });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.last.url).toBe('http://herald.test/api/v1/sse/jobs/7/progress?token=tok');
    expect(t.errors.map((e) => e.message)).toEqual([
      'This server has no stream tickets: the token goes in the stream URL',
    ]);
    FakeEventSource.last.fail();
    t.fetch.reply({ body: running(2, 20) });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.fetch.calls.filter((c) => c.url.endsWith('/tickets'))).toHaveLength(1);
    t.sub.close();
  });

  it('a job the caller may not watch (404 no such job) ends the watch', async () => {
    const t = setup({ token: 'tok' }, { status: 404, body: { error: 'no such job' } });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.sub.state).toBe('closed');
    expect(t.sub.error?.status).toBe(404);
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it('close() during the ticket request opens nothing', async () => {
    const t = setup({ token: 'tok' }, 'hang');
    t.sub.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('live events', () => {
  it('delivers events in order with their ids', () => {
    const t = setup();
    const es = FakeEventSource.last;
    es.open();
    es.message(1, { ...running(1, 0), status: 'pending' });
    es.message(2, running(2, 40, { message: 'Page 4/10', step: 'translate' }));
    es.message(3, running(3, 80));
    expect(t.seqs()).toEqual([1, 2, 3]);
    expect(t.delivered[1]!.payload.message).toBe('Page 4/10');
    expect(t.delivered.every((d) => d.meta.source === 'sse')).toBe(true);
    expect(t.sub.progress?.progress).toBe(80);
    expect(t.sub.lastEventId).toBe(3);
    t.sub.close();
  });

  it('never delivers a duplicate or an older event', () => {
    const t = setup();
    const es = FakeEventSource.last;
    es.message(1, running(1, 10));
    es.message(2, running(2, 20));
    es.message(2, running(2, 20));
    es.message(1, running(1, 10));
    es.message(3, running(3, 30));
    expect(t.seqs()).toEqual([1, 2, 3]);
    t.sub.close();
  });

  it('falls back to the payload seq when the event has no id', () => {
    const t = setup();
    FakeEventSource.last.message(null, running(3, 30));
    FakeEventSource.last.message(null, running(3, 30));
    expect(t.seqs()).toEqual([3]);
    t.sub.close();
  });

  it('reports a payload that is not JSON and carries on', () => {
    const t = setup();
    FakeEventSource.last.message(1, 'not json{');
    FakeEventSource.last.message(2, running(2, 20));
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]!.phase).toBe('parse');
    expect(t.errors[0]!.fatal).toBe(false);
    expect(t.seqs()).toEqual([2]);
    t.sub.close();
  });

  it('closes on completed: state closed, stream closed, no timer left', () => {
    const t = setup();
    const es = FakeEventSource.last;
    es.open();
    es.message(1, running(1, 50));
    es.message(2, completed(2, { data: { pages: 10 } }));
    expect(t.sub.state).toBe('closed');
    expect(t.sub.closeReason).toBe('terminal');
    expect(t.states).toEqual(['live', 'closed']);
    expect(es.closeCalls).toBe(1);
    expect(es.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    es.message(3, running(3, 60)); // nothing after the end
    expect(t.seqs()).toEqual([1, 2]);
  });

  it('closes on failed and hands over the error message', () => {
    const t = setup();
    FakeEventSource.last.message(3, { status: 'failed', progress: 30, error: 'cancelled', error_message: 'cancelled', seq: 3 });
    expect(t.sub.state).toBe('closed');
    expect(t.sub.progress?.error_message).toBe('cancelled');
    expect(t.errors).toEqual([]);
  });
});

describe('reconnection', () => {
  it("leaves the first reconnect to EventSource, which uses the server's retry and Last-Event-ID", () => {
    const t = setup();
    const es = FakeEventSource.last;
    es.open();
    es.message(1, running(1, 10));
    es.message(2, running(2, 20));
    es.drop();
    expect(t.sub.state).toBe('reconnecting');
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(es.closeCalls).toBe(0);
    // The browser reconnects after `retry:` on its own.
    es.open();
    expect(t.sub.state).toBe('live');
    es.message(3, running(3, 30));
    expect(t.seqs()).toEqual([1, 2, 3]);
    expect(t.states).toEqual(['live', 'reconnecting', 'live']);
    t.sub.close();
  });

  it('backs off exponentially from the retry value and resumes with ?last_event_id= on its own reconnects', async () => {
    const t = setup({ maxFailuresBeforePolling: 5 });
    const first = FakeEventSource.last;
    first.open();
    first.message(1, running(1, 10));
    first.message(2, running(2, 20));
    first.drop(); // failure 1: EventSource's own retry
    first.drop(); // failure 2, no event in between: ours, 5000 × 2
    expect(first.closeCalls).toBe(1);
    expect(t.sub.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(9_999);
    expect(FakeEventSource.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    const second = FakeEventSource.last;
    expect(second.query.get('last_event_id')).toBe('2');
    second.drop(); // failure 3: 20 s
    await vi.advanceTimersByTimeAsync(19_999);
    expect(FakeEventSource.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.instances).toHaveLength(3);
    const third = FakeEventSource.last;
    expect(third.query.get('last_event_id')).toBe('2');
    third.open();
    third.message(2, running(2, 20)); // replayed twice: ignored
    third.message(3, running(3, 30));
    expect(t.seqs()).toEqual([1, 2, 3]);
    expect(t.sub.state).toBe('live');
    t.sub.close();
  });

  it('honours a configured retry and adds jitter only upwards', async () => {
    const t = setup({ backoff: { initialMs: 2000, jitter: 0.5 }, random: () => 0.999 });
    FakeEventSource.last.drop();
    FakeEventSource.last.drop(); // 2000 × 2 × (1 + 0.5 × 0.999) ≈ 5998
    await vi.advanceTimersByTimeAsync(5_997);
    expect(FakeEventSource.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    t.sub.close();
  });

  it('counts a connection that never opens as a failure', async () => {
    const t = setup({ connectTimeoutMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.instances[0]!.closeCalls).toBe(1);
    expect(t.sub.state).toBe('reconnecting');
    expect(t.errors[0]?.message).toMatch(/Timed out/);
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeEventSource.instances).toHaveLength(2);
    t.sub.close();
  });

  it('reconnects and resumes after `event: error` Stream timeout, without counting a failure', () => {
    const t = setup({ maxFailuresBeforePolling: 1 });
    const es = FakeEventSource.last;
    es.open();
    es.message(1, running(1, 10));
    es.message(2, running(2, 20));
    es.serverError('Stream timeout');
    expect(t.sub.state).toBe('reconnecting');
    es.drop(); // the response ends; EventSource reconnects with Last-Event-ID: 2
    expect(t.sub.state).toBe('reconnecting');
    expect(t.errors).toEqual([]);
    expect(t.fetch.calls).toHaveLength(0); // not polling, even with maxFailuresBeforePolling 1
    es.open();
    es.message(3, running(3, 30));
    expect(t.seqs()).toEqual([1, 2, 3]);
    expect(t.sub.state).toBe('live');
    t.sub.close();
  });

  it('reports `event: error` Internal server error and reconnects with backoff when it repeats', async () => {
    const t = setup({ maxFailuresBeforePolling: 5 });
    const es = FakeEventSource.last;
    es.open();
    es.message(1, running(1, 10));
    es.serverError('Internal server error');
    expect(t.errors.map((e) => e.message)).toEqual(['Internal server error']);
    es.drop(); // EventSource retries
    es.open();
    es.serverError('Internal server error');
    es.drop(); // again, without an event: ours now
    expect(es.closeCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeEventSource.last.query.get('last_event_id')).toBe('1');
    t.sub.close();
  });
});

describe('EventSource gave up (readyState CLOSED)', () => {
  it('a 204 at the terminal event: /status confirms the end, nothing is delivered twice', async () => {
    const t = setup({ lastEventId: 5, token: 'tok' }, ticket('tk'), { body: completed(5) });
    await vi.advanceTimersByTimeAsync(0);
    FakeEventSource.last.fail();
    expect(t.sub.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.fetch.calls[1]!.url).toBe('http://herald.test/api/v1/jobs/7/status');
    expect(t.fetch.calls[1]!.init?.headers?.Authorization).toBe('Bearer tok');
    expect(t.sub.state).toBe('closed');
    expect(t.sub.closeReason).toBe('terminal');
    expect(t.delivered).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('delivers the terminal state it missed', async () => {
    const t = setup({}, { body: completed(9) });
    FakeEventSource.last.message(3, running(3, 30));
    FakeEventSource.last.fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.seqs()).toEqual([3, 9]);
    expect(t.delivered[1]!.meta.source).toBe('poll');
    expect(t.sub.state).toBe('closed');
  });

  it('stops with a fatal error on 401, 403 or 404', async () => {
    const t = setup({}, { status: 403, body: { error: 'Forbidden' } });
    FakeEventSource.last.fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.sub.state).toBe('closed');
    expect(t.sub.closeReason).toBe('error');
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]!.fatal).toBe(true);
    expect(t.errors[0]!.status).toBe(403);
    expect(t.errors[0]!.message).toMatch(/Forbidden/);
    expect(t.sub.error).toBe(t.errors[0]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reconnects when the job is still running (the stream was refused by something in between)', async () => {
    const t = setup({}, { body: running(4, 40) });
    FakeEventSource.last.message(3, running(3, 30));
    FakeEventSource.last.fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.seqs()).toEqual([3, 4]);
    expect(t.sub.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.last.query.get('last_event_id')).toBe('4');
    t.sub.close();
  });
});

describe('robustness', () => {
  it('switches to polling after the first failure with maxFailuresBeforePolling 1', async () => {
    const t = setup({ maxFailuresBeforePolling: 1 }, { body: running(1, 10) });
    FakeEventSource.last.drop();
    expect(t.sub.state).toBe('polling');
    expect(FakeEventSource.last.closeCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.seqs()).toEqual([1]);
    t.sub.close();
  });

  it('a throwing listener neither stops delivery nor the close on the terminal event', () => {
    const thrown: unknown[] = [];
    vi.stubGlobal('queueMicrotask', (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        thrown.push(e);
      }
    });
    try {
      const sub = watchJob({ id: 1, eventSourceImpl: FakeEventSource }, () => {
        throw new Error('bug in the UI');
      });
      FakeEventSource.last.message(1, running(1, 10));
      FakeEventSource.last.message(2, completed(2));
      expect(thrown.map((e) => (e as Error).message)).toEqual(['bug in the UI', 'bug in the UI']);
      expect(sub.state).toBe('closed');
      expect(sub.lastEventId).toBe(2);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('unsubscribe', () => {
  it('cleans up a live stream', () => {
    const t = setup();
    const es = FakeEventSource.last;
    es.open();
    es.message(1, running(1, 10));
    t.sub.unsubscribe();
    expect(t.sub.state).toBe('closed');
    expect(t.sub.closeReason).toBe('closed');
    expect(es.closeCalls).toBe(1);
    expect(es.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(t.states).toEqual(['live']); // no callback after close()
  });

  it('cleans up while waiting to reconnect', async () => {
    const t = setup();
    FakeEventSource.last.drop();
    FakeEventSource.last.drop();
    expect(vi.getTimerCount()).toBe(1);
    t.sub.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('cleans up during a pending token request', async () => {
    let resolve!: (t: string) => void;
    const t = setup({ token: () => new Promise<string>((r) => (resolve = r)) });
    t.sub.close();
    resolve('late');
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets a listener close from inside a callback', () => {
    const seen: number[] = [];
    const sub = watchJob({ id: 1, eventSourceImpl: FakeEventSource }, (p, meta) => {
      seen.push(meta.id!);
      sub.close();
    });
    FakeEventSource.last.message(1, running(1, 10));
    FakeEventSource.last.message(2, running(2, 20));
    expect(seen).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
