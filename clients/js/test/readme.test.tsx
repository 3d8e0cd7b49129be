// @vitest-environment happy-dom
// The README's React example (test/readme/AuditDashboard.tsx), as a user would run it:
// no options, the browser's own EventSource and fetch.
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditDashboard } from './readme/AuditDashboard.js';
import { FakeEventSource, fakeFetch } from './fakes.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLElement;
let root: Root;
let fetch: ReturnType<typeof fakeFetch>;

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
  fetch = fakeFetch({ body: { audit_id: 42, status: 'running', progress: 55, seq: 6 } });
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.stubGlobal('fetch', fetch);
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('README example', () => {
  it('shows the progress bar, the reconnecting state, and the end', async () => {
    act(() => root.render(<AuditDashboard auditId={42} />));
    expect(container.textContent).toBe('Connecting...');
    const es = FakeEventSource.last;
    expect(es.url).toBe('/api/v1/sse/audits/42/progress');
    act(() => {
      es.open();
      es.message(5, { audit_id: 42, status: 'running', progress: 50, seq: 5 });
    });
    expect(container.textContent).toBe('Audit ProgressStatus: runningProgress: 50%');
    expect(container.querySelector('progress')!.getAttribute('value')).toBe('50');

    act(() => es.drop());
    expect(container.textContent).toContain('Connection: reconnecting');

    // The stream is refused (EventSource gives up): /status tells the job still runs.
    act(() => es.fail());
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(fetch.calls[0]!.url).toBe('/api/v1/audits/42/status');
    expect(container.textContent).toContain('Progress: 55%');

    await act(() => vi.advanceTimersByTimeAsync(15_000)); // backoff: 5000 × 2, plus up to 50% jitter
    const next = FakeEventSource.last;
    expect(next).not.toBe(es);
    expect(next.url).toBe('/api/v1/sse/audits/42/progress?last_event_id=6');
    act(() => {
      next.open();
      next.message(7, { audit_id: 42, status: 'completed', progress: 100, geo_score: 78.5, seq: 7 });
    });
    expect(container.textContent).toBe('Audit ProgressStatus: completedProgress: 100%');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('shows a fatal error', async () => {
    fetch.reply({ status: 404, body: { error: 'audit 42 not found' } });
    act(() => root.render(<AuditDashboard auditId={42} />));
    act(() => FakeEventSource.last.fail());
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(container.textContent).toBe('Error: Status request failed: audit 42 not found');
  });
});
