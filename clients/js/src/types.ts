/** The status of a Herald job. `completed` and `failed` are terminal. */
export type JobStatus = 'pending' | 'running' | 'completed' | 'failed';

/** Which family of endpoints to use: `/audits/{id}` or `/jobs/{id}`. */
export type JobKind = 'audit' | 'job';

/**
 * The connection state a UI can show.
 *
 * - `connecting`: opening the first stream.
 * - `live`: the stream is open; updates arrive as they happen.
 * - `reconnecting`: the stream dropped; waiting for (or opening) the next one.
 * - `polling`: streaming failed repeatedly or EventSource does not exist:
 *   `GET …/status` every 5–10 seconds.
 * - `closed`: finished (terminal event, fatal error, or `close()`); nothing more will happen.
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'closed';

/**
 * The progress payload Herald sends on the stream and from `…/status`.
 * Optional fields appear once known; unknown fields are kept.
 */
export interface ProgressPayload {
  status: JobStatus;
  /** 0–100, never decreases within a job. */
  progress: number;
  message?: string;
  step?: string;
  /** Audits. */
  audit_id?: number;
  url?: string;
  total_pages?: number;
  geo_score?: number;
  critical_issues?: number;
  high_issues?: number;
  medium_issues?: number;
  low_issues?: number;
  /** Generic jobs. */
  job_id?: number;
  type?: string;
  title?: string;
  /** A generic job's result. */
  data?: unknown;
  /** On failure both carry the reason. */
  error?: string;
  error_message?: string;
  /** The job's event sequence number (the SSE event id). */
  seq?: number;
  updated_at?: string;
  [field: string]: unknown;
}

/** Metadata delivered with each progress update. */
export interface ProgressMeta {
  /** The event id (the job's sequence number), when known. */
  id: number | null;
  /** Where the update came from. */
  source: 'sse' | 'poll';
}

/** Why a subscription ended. */
export type CloseReason = 'terminal' | 'error' | 'closed';

/** Minimal structural view of an `EventSource` instance (what this package uses). */
export interface EventSourceLike {
  readonly readyState: number;
  readonly url?: string;
  addEventListener(type: string, listener: (event: any) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
  close(): void;
}

/** Minimal structural view of the `EventSource` constructor. */
export interface EventSourceConstructorLike {
  new (url: string, init?: { withCredentials?: boolean }): EventSourceLike;
}

/** Minimal structural view of a fetch `Response`. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly headers?: { get(name: string): string | null };
  json(): Promise<unknown>;
}

/** Minimal structural view of `fetch`. */
export type FetchLike = (
  input: string,
  init?: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    credentials?: 'include' | 'same-origin' | 'omit';
    signal?: AbortSignal;
    cache?: 'no-store' | 'default' | 'no-cache' | 'reload' | 'force-cache' | 'only-if-cached';
  },
) => Promise<ResponseLike>;

/** A token, or a function returning the current one (called before each connection or poll). */
export type TokenSource =
  | string
  | null
  | undefined
  | (() => string | null | undefined | Promise<string | null | undefined>);

/**
 * How a stream is authenticated when a token is given.
 *
 * - `ticket` (default): before each connection the token is traded, in an
 *   `Authorization` header, for a single-use 60-second stream ticket
 *   (`POST /api/v1/sse/tickets`); the stream URL carries only `?ticket=`.
 * - `token`: the token itself goes in the stream URL as `?token=` (where
 *   proxies and access logs may keep it). For servers without tickets.
 *
 * Without a token the `auth_token` cookie authenticates and neither is used.
 */
export type StreamAuth = 'ticket' | 'token';
