import { useEffect, useRef, useState } from 'react';
import type { HeraldError } from './errors.js';
import type { ConnectionState, JobKind, ProgressMeta, ProgressPayload } from './types.js';
import { watchJob, type WatchJobOptions } from './watch.js';

export type { ConnectionState, ProgressPayload, ProgressMeta, JobKind } from './types.js';
export type { HeraldError } from './errors.js';

/** Options of {@link useJobProgress}: those of `watchJob`, plus a few for the hook. */
export interface UseJobProgressOptions<T = ProgressPayload>
  extends Omit<WatchJobOptions, 'id'> {
  /** The job's id; `null`/`undefined` watches nothing (state `closed`). */
  id: number | string | null | undefined;
  /** `false` watches nothing (default true). */
  enabled?: boolean;
  /** Called with every new payload (besides updating `progress`). */
  onProgress?: (payload: T, meta: ProgressMeta) => void;
  /** Called with every error, transient or fatal (the hook's `error` holds fatal ones only). */
  onError?: (error: HeraldError) => void;
}

/** What the hooks return. */
export interface JobProgressResult<T = ProgressPayload> {
  /** The latest payload, or null before the first one. */
  progress: T | null;
  /**
   * An error that stopped the watch (401, 403, 404, no way to reach the
   * server), else null. Dropped connections are not errors: `state` shows
   * `reconnecting` or `polling` while the client recovers by itself.
   */
  error: HeraldError | null;
  /** connecting, live, reconnecting, polling or closed. */
  state: ConnectionState;
  /** The id of the latest event (the job's sequence number), or null. */
  lastEventId: number | null;
}

const HOOK_ONLY = new Set(['id', 'enabled', 'onProgress', 'onError']);

/**
 * Watches a job while the component is mounted. The subscription restarts when
 * `id`, `kind`, `baseUrl`, `withCredentials`, `enabled` or a string `token`
 * changes; other options (and a token function, always called fresh) are read
 * when it starts. Unmounting closes the stream and clears every timer.
 */
export function useJobProgress<T = ProgressPayload>(
  options: UseJobProgressOptions<T>,
): JobProgressResult<T> {
  const { id, kind, baseUrl, withCredentials, token } = options;
  const active = options.enabled !== false && id !== null && id !== undefined && id !== '';
  const latest = useRef(options);
  const tokenKey = typeof token === 'function' ? '\u0000function' : (token ?? '');

  const [result, setResult] = useState<JobProgressResult<T>>(() => ({
    progress: null,
    error: null,
    state: active ? 'connecting' : 'closed',
    lastEventId: null,
  }));

  // Keep the latest callbacks and options without restarting the stream.
  useEffect(() => {
    latest.current = options;
  });

  useEffect(() => {
    if (!active) {
      setResult({ progress: null, error: null, state: 'closed', lastEventId: null });
      return undefined;
    }
    const current = latest.current;
    const watchOptions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(current)) if (!HOOK_ONLY.has(k)) watchOptions[k] = v;
    watchOptions.id = id;
    if (typeof current.token === 'function') {
      // Always ask the newest token function given to the hook.
      watchOptions.token = () => {
        const t = latest.current.token;
        return typeof t === 'function' ? t() : t;
      };
    }
    let live = true;
    const sub = watchJob<T>(watchOptions as unknown as WatchJobOptions, {
      onProgress(payload, meta) {
        if (!live) return;
        setResult((r) => ({ ...r, progress: payload, error: null, lastEventId: meta.id ?? r.lastEventId }));
        latest.current.onProgress?.(payload, meta);
      },
      onState(state) {
        if (!live) return;
        setResult((r) => (r.state === state ? r : { ...r, state }));
      },
      onError(error) {
        if (!live) return;
        if (error.fatal) setResult((r) => ({ ...r, error }));
        latest.current.onError?.(error);
      },
    });
    setResult({ progress: sub.progress, error: sub.error, state: sub.state, lastEventId: sub.lastEventId });
    return () => {
      live = false;
      sub.close();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active, id, kind, baseUrl, withCredentials, tokenKey]);

  return result;
}

/**
 * The seed's `useAuditProgress(auditId)`, with reconnection, resumption and
 * the polling fallback: `{ progress, error, state }`.
 */
export function useAuditProgress<T = ProgressPayload>(
  auditId: number | string | null | undefined,
  options: Omit<UseJobProgressOptions<T>, 'id' | 'kind'> = {},
): JobProgressResult<T> {
  return useJobProgress<T>({ ...options, id: auditId, kind: 'audit' as JobKind });
}
