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
      { baseUrl: 'http://h', token: 't', types: ['i18n_debug'], named: true, eventSourceImpl: FakeEventSource, fetchImpl: fetch },
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
    expect(es.url).toBe('http://h/notify/events?events=named&ticket=nt1');
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
    FakeEventSource.last.message(8, { event: 'job', ...running(2, 20) });
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
    first.message(4, { event: 'job', ...running(2, 20) });
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

  it('by default reads plain data events (as seed 004 writes them): the kind is in the data', () => {
    const jobs: Array<[number, string, unknown]> = [];
    const notices: string[] = [];
    const sub = watchNotifications(
      { eventSourceImpl: FakeEventSource },
      {
        onJob: (p, m) => jobs.push([m.id!, m.event, (p as { event?: unknown }).event]),
        onNotice: (n, m) => notices.push(`${m.id}:${m.event}:${String(n.data)}:${String((n as { event?: unknown }).event)}`),
      },
    );
    const es = FakeEventSource.last;
    expect(es.url).toBe('/notify/events');
    es.message(1, { event: 'job', ...running(2, 20) });
    es.message(2, { event: 'audit', audit_id: 3, status: 'running', progress: 5 });
    es.message(3, { event: 'notice', type: 'i18n_debug', data: 'hello', created_at: '2026-12-03T00:00:00Z' });
    es.message(3, { event: 'notice', type: 'i18n_debug', data: 'again' }); // already seen
    es.message(4, { event: 'something-new' }); // ignored
    expect(jobs).toEqual([
      [1, 'job', undefined],
      [2, 'audit', undefined],
    ]);
    expect(notices).toEqual(['3:i18n_debug:hello:undefined']);
    sub.close();
  });

  it('types filters plain notices', () => {
    const notices: string[] = [];
    const sub = watchNotifications(
      { eventSourceImpl: FakeEventSource, types: ['wanted'] },
      { onNotice: (n, m) => notices.push(m.event) },
    );
    FakeEventSource.last.message(1, { event: 'notice', type: 'other', data: 1 });
    FakeEventSource.last.message(2, { event: 'notice', type: 'wanted', data: 2 });
    expect(notices).toEqual(['wanted']);
    sub.close();
  });
});
