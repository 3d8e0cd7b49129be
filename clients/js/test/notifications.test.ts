import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchNotifications } from '../src/index.js';
import { FakeEventSource, running } from './fakes.js';

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('watchNotifications', () => {
  it('delivers job changes and the notice types asked for, once each', () => {
    const jobs: number[] = [];
    const notices: string[] = [];
    const sub = watchNotifications(
      { baseUrl: 'http://h', token: 't', types: ['i18n_debug'], eventSourceImpl: FakeEventSource },
      {
        onJob: (p, m) => jobs.push(m.id!),
        onNotice: (n, m) => notices.push(`${m.event}:${String(n.data)}`),
      },
    );
    const es = FakeEventSource.last;
    expect(es.url).toBe('http://h/notify/events?token=t');
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
});
