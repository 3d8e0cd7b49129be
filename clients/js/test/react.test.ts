// @vitest-environment happy-dom
import { act, createElement, StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useAuditProgress, useJobProgress, type JobProgressResult } from '../src/react.js';
import { completed, FakeEventSource, fakeFetch, running } from './fakes.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLElement;
let root: Root;

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
  vi.useRealTimers();
});

/** The seed's component, written with the hook. */
function AuditDashboard({ auditId }: { auditId: number }) {
  const { progress, error, state } = useAuditProgress(auditId, {
    baseUrl: 'http://herald.test',
    eventSourceImpl: FakeEventSource,
    fetchImpl: fakeFetch(),
    random: () => 0,
  });
  if (error) return createElement('div', null, `Error: ${error.message}`);
  if (!progress) return createElement('div', null, `Connecting... (${state})`);
  return createElement(
    'div',
    null,
    createElement('h2', null, 'Audit Progress'),
    createElement('div', { id: 'status' }, `Status: ${progress.status}`),
    createElement('div', { id: 'state' }, `Connection: ${state}`),
    createElement('progress', { value: progress.progress, max: 100 }),
  );
}

describe('useAuditProgress', () => {
  it('renders progress and the connection state, and closes on the terminal event', () => {
    act(() => root.render(createElement(AuditDashboard, { auditId: 42 })));
    expect(container.textContent).toBe('Connecting... (connecting)');
    const es = FakeEventSource.last;
    expect(es.url).toBe('http://herald.test/api/v1/sse/audits/42/progress');
    act(() => es.open());
    expect(container.textContent).toBe('Connecting... (live)');
    act(() => es.message(2, { audit_id: 42, status: 'running', progress: 40, seq: 2 }));
    expect(container.querySelector('#status')!.textContent).toBe('Status: running');
    expect(container.querySelector('#state')!.textContent).toBe('Connection: live');
    expect(container.querySelector('progress')!.getAttribute('value')).toBe('40');
    act(() => es.message(3, { audit_id: 42, status: 'completed', progress: 100, seq: 3 }));
    expect(container.querySelector('#status')!.textContent).toBe('Status: completed');
    expect(container.querySelector('#state')!.textContent).toBe('Connection: closed');
    expect(es.readyState).toBe(FakeEventSource.CLOSED);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closes the stream and clears timers on unmount', () => {
    act(() => root.render(createElement(AuditDashboard, { auditId: 42 })));
    const es = FakeEventSource.last;
    act(() => es.open());
    act(() => es.message(2, running(2, 40)));
    act(() => {
      es.drop();
      es.drop(); // a reconnect timer is pending
    });
    expect(vi.getTimerCount()).toBe(1);
    act(() => root.unmount());
    expect(es.readyState).toBe(FakeEventSource.CLOSED);
    expect(es.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    root = createRoot(container); // for afterEach
  });

  it('resubscribes when the id changes and forgets the old progress', () => {
    act(() => root.render(createElement(AuditDashboard, { auditId: 1 })));
    const first = FakeEventSource.last;
    act(() => first.message(2, running(2, 40)));
    act(() => root.render(createElement(AuditDashboard, { auditId: 2 })));
    expect(first.readyState).toBe(FakeEventSource.CLOSED);
    expect(FakeEventSource.last.url).toBe('http://herald.test/api/v1/sse/audits/2/progress');
    expect(container.textContent).toBe('Connecting... (connecting)');
  });

  it('works under StrictMode (mount, unmount, mount) with one open stream', () => {
    act(() => root.render(createElement(StrictMode, null, createElement(AuditDashboard, { auditId: 5 }))));
    const open = FakeEventSource.instances.filter((es) => es.readyState !== FakeEventSource.CLOSED);
    expect(open).toHaveLength(1);
  });
});

describe('useJobProgress', () => {
  function Probe(props: { id: number | null; onResult: (r: JobProgressResult) => void; fetchImpl?: ReturnType<typeof fakeFetch> }) {
    const r = useJobProgress({
      id: props.id,
      baseUrl: 'http://herald.test',
      token: 'tok',
      eventSourceImpl: null,
      fetchImpl: props.fetchImpl ?? fakeFetch(),
      random: () => 0,
    });
    props.onResult(r);
    return null;
  }

  it('polls without EventSource and shows state polling', async () => {
    const results: JobProgressResult[] = [];
    const fetch = fakeFetch({ body: running(2, 20) }, { body: completed(3) });
    act(() => root.render(createElement(Probe, { id: 9, onResult: (r) => results.push(r), fetchImpl: fetch })));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(fetch.calls[0]!.url).toBe('http://herald.test/api/v1/jobs/9/status');
    let last = results[results.length - 1]!;
    expect(last.state).toBe('polling');
    expect(last.progress?.progress).toBe(20);
    expect(last.lastEventId).toBe(2);
    await act(() => vi.advanceTimersByTimeAsync(5000));
    last = results[results.length - 1]!;
    expect(last.state).toBe('closed');
    expect(last.progress?.status).toBe('completed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sets error on a fatal answer', async () => {
    const results: JobProgressResult[] = [];
    const fetch = fakeFetch({ status: 404, body: { error: 'Not found' } });
    act(() => root.render(createElement(Probe, { id: 9, onResult: (r) => results.push(r), fetchImpl: fetch })));
    await act(() => vi.advanceTimersByTimeAsync(0));
    const last = results[results.length - 1]!;
    expect(last.error?.status).toBe(404);
    expect(last.error?.message).toMatch(/Not found/);
    expect(last.state).toBe('closed');
  });

  it('watches nothing without an id', () => {
    const results: JobProgressResult[] = [];
    const fetch = fakeFetch();
    act(() => root.render(createElement(Probe, { id: null, onResult: (r) => results.push(r), fetchImpl: fetch })));
    expect(results[results.length - 1]!.state).toBe('closed');
    expect(fetch.calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
