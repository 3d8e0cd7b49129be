/** Reconnection delays. */
export interface BackoffOptions {
  /**
   * Base delay in ms. Defaults to the server's `retry:` (Herald's `SSE_RETRY_MS`, 5000).
   * EventSource does not expose the `retry:` it received, so set this to match a
   * server that uses another value; the first reconnect after a drop is
   * EventSource's own, which uses the server's value exactly.
   */
  initialMs?: number;
  /** Upper bound of the exponential part, in ms (default 60000). */
  maxMs?: number;
  /** Growth factor per consecutive failure (default 2). */
  factor?: number;
  /**
   * Jitter as a fraction of the delay (default 0.5): the wait is drawn
   * uniformly from [delay, delay × (1 + jitter)]. Jitter is only ever added,
   * so a client never reconnects sooner than the server's `retry:`.
   */
  jitter?: number;
}

export const DEFAULT_RETRY_MS = 5000;

/**
 * Delay before reconnect attempt number `failures` (1 = after the first failure):
 *
 *   delay = min(maxMs, initialMs × factor^(failures − 1))
 *   wait  = delay × (1 + jitter × random())
 */
export function backoffDelay(failures: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = Math.max(0, opts.initialMs ?? DEFAULT_RETRY_MS);
  const max = Math.max(initial, opts.maxMs ?? 60000);
  const factor = Math.max(1, opts.factor ?? 2);
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
  const n = Math.max(1, Math.floor(failures));
  const delay = Math.min(max, initial * Math.pow(factor, n - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(delay * (1 + jitter * r));
}
