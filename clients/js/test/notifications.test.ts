import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchNotifications } from '../src/index.js';
import { FakeEventSource, fakeFetch, running } from './fakes.js';

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('watchNotifications', () => {
  it('delivers job changes and the notice types asked for, once each', async () => {
    const jobs: number[] = [];
    const notices: string[] = [];
    const fetch = fakeFetch({ status: 201, body: { ticket: 'nt1', expires_in: 60 } });
    const sub = watchNotifications(
      { baseUrl: 'http://h', token: 't', types: ['i18n_debug'], eventSourceImpl: FakeEventSource, fetchImpl: fetch },
      {
        onJob: (p, m) => jobs.push(m.id!),
        onNotice: (n, m) => notices.push(`${m.event}:${String(n.data)}`),
      },
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(fetch.calls[0]!.url).toBe('http://h/api/v1/sse/tickets');
    expect(fetch.calls[0]!.init?.headers?.Authorization).toBe('Bearer t');
    expect(JSON.parse(fetch.calls[0]!.init!.body!)).toEqual({ stream: 'notify' });
    const es = FakeEventSource.last;
    expect(es.url).toBe('http://h/notify/events?ticket=nt1');
    es.open();
    expect(sub.state).toBe('live');
    es.named('job', 1, running(2, 20));
    es.named('audit', 2, { audit_id: 3, status: 'running', progress: 5 });
    es.named('job', 2, running(2, 20)); // already seen
    es.named('i18n_debug', 3, { type: 'i18n_debug', data: 'hello' });
    expect(jobs).toEqual([1, 2]);
    expect(notices).toEqual(['i18n_debug:hello']);
    sub.close();
    expect(es.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reconnects with last_event_id after EventSource gives up', async () => {
    const sub = watchNotifications({ eventSourceImpl: FakeEventSource, random: () => 0 }, {});
    FakeEventSource.last.named('job', 8, running(2, 20));
    FakeEventSource.last.fail();
    expect(sub.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.last.url).toBe('/notify/events?last_event_id=8');
    sub.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('with a ticket, a drop reconnects with a new ticket instead of EventSource reusing the old one', async () => {
    const fetch = fakeFetch(
      { status: 201, body: { ticket: 'nt1', expires_in: 60 } },
      { status: 201, body: { ticket: 'nt2', expires_in: 60 } },
    );
    const sub = watchNotifications(
      { token: 't', eventSourceImpl: FakeEventSource, fetchImpl: fetch, random: () => 0 },
      {},
    );
    await vi.advanceTimersByTimeAsync(0);
    const first = FakeEventSource.last;
    first.named('job', 4, running(2, 20));
    first.drop();
    expect(first.closeCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.last.url).toBe('/notify/events?ticket=nt2&last_event_id=4');
    sub.close();
  });

  it('a refused ticket (401) ends the watch with the reason', async () => {
    const errors: string[] = [];
    const states: string[] = [];
    const sub = watchNotifications(
      { token: 'old', eventSourceImpl: FakeEventSource, fetchImpl: fakeFetch({ status: 401, body: { error: 'token expired' } }) },
      { onError: (e) => errors.push(`${e.status} ${e.fatal} ${e.message}`), onState: (s) => states.push(s) },
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(sub.state).toBe('closed');
    expect(states).toEqual(['closed']);
    expect(errors).toEqual(['401 true Stream ticket refused: token expired']);
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
