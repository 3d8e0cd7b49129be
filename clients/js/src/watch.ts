import { backoffDelay, type BackoffOptions } from './backoff.js';
import { HeraldError, isFatalStatus } from './errors.js';
import type {
  CloseReason,
  ConnectionState,
  EventSourceConstructorLike,
  EventSourceLike,
  FetchLike,
  JobKind,
  ProgressMeta,
  ProgressPayload,
  StreamAuth,
  TokenSource,
} from './types.js';
import { requestStreamTicket } from './tickets.js';
import { buildStatusUrl, buildStreamUrl } from './urls.js';

/** Options of {@link watchJob}. */
export interface WatchJobOptions {
  /** The job's (or audit's) id. */
  id: number | string;
  /** `'audit'` uses `/audits/{id}`, `'job'` (default) uses `/jobs/{id}`. */
  kind?: JobKind;
  /** Where Herald is, e.g. `https://herald.example.com`. Default `''`: the page's own origin. */
  baseUrl?: string;
  /**
   * A JWT, or a function returning the current one (called before each new
   * connection and each poll, so it may refresh an expiring token).
   * It travels only in `Authorization: Bearer` headers: each stream is opened
   * with a single-use ticket bought with it (see `streamAuth`), and polling
   * sends the header. Leave it out to rely on the `auth_token` cookie.
   */
  token?: TokenSource;
  /**
   * `'ticket'` (default): open each stream with a fresh stream ticket, so the
   * token never sits in a URL. `'token'`: put the token in the stream URL as
   * `?token=` (older servers). Tickets need fetch; without one the token is used.
   */
  streamAuth?: StreamAuth;
  /**
   * Send cookies cross-origin: EventSource `withCredentials: true` and fetch
   * `credentials: 'include'`. Same-origin requests send cookies anyway.
   */
  withCredentials?: boolean;
  /** Resume after this event id (e.g. one saved before a page reload). */
  lastEventId?: number | null;
  /**
   * The EventSource constructor. Default: `globalThis.EventSource`.
   * `null` (or no global EventSource) means: poll `…/status` only.
   */
  eventSourceImpl?: EventSourceConstructorLike | null;
  /** The fetch function for polling. Default: `globalThis.fetch`. */
  fetchImpl?: FetchLike | null;
  /** Polling interval in ms (default 5000; kept within 5000–10000 unless `clampPollInterval` is false). */
  pollIntervalMs?: number;
  /** Keep `pollIntervalMs` within 5–10 s (default true). Set to false only in tests or on your own server. */
  clampPollInterval?: boolean;
  /** Consecutive stream failures (without an event in between) before switching to polling (default 3). */
  maxFailuresBeforePolling?: number;
  /** Reconnection backoff (see {@link backoffDelay}). */
  backoff?: BackoffOptions;
  /**
   * While polling, try the stream again this often, in ms (default 60000; 0: never).
   * Polling continues meanwhile; the first event the stream delivers switches back to `live`.
   */
  streamRetryWhilePollingMs?: number;
  /**
   * A connection attempt that neither opens nor delivers an event within this
   * many ms counts as a failure (default 30000; 0: no limit).
   */
  connectTimeoutMs?: number;
  /** Random source for jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
}

/** Callbacks of {@link watchJob}. Each is optional. */
export interface JobListener<T = ProgressPayload> {
  /** A new progress payload, in event order, never twice. */
  onProgress?(payload: T, meta: ProgressMeta): void;
  /** The connection state changed. */
  onState?(state: ConnectionState, previous: ConnectionState): void;
  /** Something went wrong; `error.fatal` says whether the watch stopped. */
  onError?(error: HeraldError): void;
}

/** What {@link watchJob} returns. */
export interface JobSubscription<T = ProgressPayload> {
  /** The current connection state. */
  readonly state: ConnectionState;
  /** The latest payload delivered, or null. */
  readonly progress: T | null;
  /** The id of the latest event delivered (the job's sequence number), or null. */
  readonly lastEventId: number | null;
  /** Why the watch ended, once `state` is `closed`. */
  readonly closeReason: CloseReason | null;
  /** The fatal error that ended the watch, if any. */
  readonly error: HeraldError | null;
  /** Stops watching: closes the stream, clears timers, aborts requests. No callback runs afterwards. */
  close(): void;
  /** Same as `close()`. */
  unsubscribe(): void;
}

const CONNECTING = 0;
const CLOSED = 2;
/** A connection open at least this long counts as a success even without events. */
const STABLE_CONNECTION_MS = 60_000;
export const POLL_MIN_MS = 5000;
export const POLL_MAX_MS = 10_000;

/** True for `completed` and `failed`. */
export function isTerminalStatus(status: unknown): boolean {
  return status === 'completed' || status === 'failed';
}

/**
 * Runs a listener callback. If it throws, the error is rethrown on its own
 * (like an event listener's) so that it neither breaks the watcher's
 * bookkeeping nor goes unnoticed.
 */
function callSafely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

function parseEventId(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v !== 'string' || v === '' || !/^\d+$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

interface Connection {
  es: EventSourceLike;
  /** A trial connection made while polling; it takes over on its first event. */
  probe: boolean;
  gotMessage: boolean;
  openedAt: number | null;
  /** The server said `Stream timeout`: the end that follows is expected. */
  expectEnd: boolean;
  /** The server said `Internal server error` (or another error). */
  serverFault: boolean;
  /** Opened with a single-use ticket: EventSource's own retry would reuse it. */
  ticket: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  listeners: Array<[string, (event: any) => void]>;
}

class JobWatcher<T> implements JobSubscription<T> {
  private _state: ConnectionState;
  private _progress: T | null = null;
  private _lastId: number | null;
  private _lastJson: string | null = null;
  private _closeReason: CloseReason | null = null;
  private _error: HeraldError | null = null;
  private closed = false;
  private listener: JobListener<T> | null;

  private readonly ES: EventSourceConstructorLike | null;
  private readonly fetchFn: FetchLike | null;
  private readonly now: () => number;
  private readonly random: () => number;

  private conn: Connection | null = null;
  private failures = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly aborts = new Set<AbortController>();
  private polling = false;
  private pollInFlight = false;
  /** The server has no stream tickets: the token goes in the URL. */
  private ticketsUnsupported = false;
  /** Bumped on every teardown; async work from an older generation is dropped. */
  private generation = 0;

  constructor(
    private readonly opts: WatchJobOptions,
    listener: JobListener<T>,
  ) {
    this.listener = listener;
    this._lastId = opts.lastEventId ?? null;
    const g = globalThis as { EventSource?: EventSourceConstructorLike; fetch?: FetchLike };
    this.ES = opts.eventSourceImpl === undefined ? (g.EventSource ?? null) : opts.eventSourceImpl;
    this.fetchFn =
      opts.fetchImpl === undefined ? (typeof g.fetch === 'function' ? g.fetch.bind(globalThis) : null) : opts.fetchImpl;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this._state = this.ES ? 'connecting' : 'polling';
  }

  get state(): ConnectionState {
    return this._state;
  }
  get progress(): T | null {
    return this._progress;
  }
  get lastEventId(): number | null {
    return this._lastId;
  }
  get closeReason(): CloseReason | null {
    return this._closeReason;
  }
  get error(): HeraldError | null {
    return this._error;
  }

  start(): void {
    if (this.ES) {
      this.connect(false);
    } else if (this.fetchFn) {
      this.enterPolling(true);
    } else {
      this.fail(new HeraldError('Neither EventSource nor fetch is available', { phase: 'stream', fatal: true }));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this._closeReason = 'closed';
    this.listener = null;
    this.teardown();
    this._state = 'closed';
  }

  unsubscribe(): void {
    this.close();
  }

  // ---- delivery -----------------------------------------------------------

  private setState(next: ConnectionState): void {
    if (this.closed && next !== 'closed') return;
    const prev = this._state;
    if (prev === next) return;
    this._state = next;
    const listener = this.listener;
    if (listener?.onState) callSafely(() => listener.onState!(next, prev));
  }

  private report(error: HeraldError): void {
    if (this.closed) return;
    const listener = this.listener;
    if (listener?.onError) callSafely(() => listener.onError!(error));
  }

  /** Delivers a payload unless it is one already delivered; closes on a terminal one. */
  private deliver(raw: unknown, id: number | null, source: ProgressMeta['source']): void {
    if (this.closed) return;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.report(new HeraldError('Progress payload is not a JSON object', { phase: 'parse' }));
      return;
    }
    const payload = raw as T;
    const fields = raw as ProgressPayload;
    if (id === null && typeof fields.seq === 'number') id = fields.seq;
    const json = JSON.stringify(payload);
    if (id !== null) {
      if (this._lastId !== null && id <= this._lastId) {
        // Replayed or already seen. A terminal one still ends the watch (a
        // resume from a saved lastEventId that was already the end).
        if (isTerminalStatus(fields.status)) this.finish('terminal');
        return;
      }
      this._lastId = id;
    } else if (json === this._lastJson) {
      return; // a poll that found nothing new
    }
    this._lastJson = json;
    this._progress = payload;
    const listener = this.listener;
    if (listener?.onProgress) callSafely(() => listener.onProgress!(payload, { id, source }));
    if (this.closed) return;
    if (isTerminalStatus(fields.status)) this.finish('terminal');
  }

  private finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.teardown();
    this._closeReason = reason;
    const listener = this.listener;
    const prev = this._state;
    this._state = 'closed';
    this.listener = null;
    if (prev !== 'closed' && listener?.onState) callSafely(() => listener.onState!('closed', prev));
  }

  private fail(error: HeraldError): void {
    if (this.closed) return;
    this._error = error;
    this.report(error);
    this.finish('error');
  }

  private teardown(): void {
    this.generation++;
    this.dropConnection();
    for (const t of [this.reconnectTimer, this.pollTimer, this.probeTimer]) if (t !== null) clearTimeout(t);
    this.reconnectTimer = this.pollTimer = this.probeTimer = null;
    for (const a of this.aborts) a.abort();
    this.aborts.clear();
    this.polling = false;
    this.pollInFlight = false;
  }

  // ---- tokens ---------------------------------------------------------------

  /** Calls `then` with the current token: synchronously for a string, later for a function. */
  private withToken(then: (token: string | null) => void): void {
    const source = this.opts.token;
    if (typeof source !== 'function') {
      then(source ?? null);
      return;
    }
    const gen = this.generation;
    let result: ReturnType<typeof source>;
    try {
      result = source();
    } catch (cause) {
      this.fail(new HeraldError('Could not get a token', { phase: 'token', fatal: true, cause }));
      return;
    }
    Promise.resolve(result).then(
      (token) => {
        if (!this.closed && gen === this.generation) then(token ?? null);
      },
      (cause) => {
        if (!this.closed && gen === this.generation)
          this.fail(new HeraldError('Could not get a token', { phase: 'token', fatal: true, cause }));
      },
    );
  }

  // ---- the stream -----------------------------------------------------------

  private connect(probe: boolean): void {
    if (this.closed || !this.ES) return;
    this.withToken((token) => {
      if (token && this.fetchFn && !this.ticketsUnsupported && (this.opts.streamAuth ?? 'ticket') === 'ticket')
        this.openWithTicket(token, probe);
      else this.open({ token }, probe);
    });
  }

  /** Buys a stream ticket with the token, then opens the stream with it. */
  private openWithTicket(token: string, probe: boolean): void {
    const fetchFn = this.fetchFn!;
    const gen = this.generation;
    const alive = () => !this.closed && gen === this.generation;
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    if (controller) this.aborts.add(controller);
    const target = this.opts.kind === 'audit' ? { audit_id: this.opts.id } : { job_id: this.opts.id };
    requestStreamTicket({
      baseUrl: this.opts.baseUrl,
      token,
      target,
      fetchImpl: fetchFn,
      withCredentials: this.opts.withCredentials,
      ...(controller ? { signal: controller.signal } : {}),
    })
      .then(
        (answer) => {
          if (!alive() || controller?.signal.aborted) return;
          if ('ticket' in answer) {
            this.open({ ticket: answer.ticket }, probe);
            return;
          }
          this.ticketsUnsupported = true;
          this.report(
            new HeraldError('This server has no stream tickets: the token goes in the stream URL', { phase: 'stream' }),
          );
          this.open({ token }, probe);
        },
        (error: HeraldError) => {
          if (!alive() || controller?.signal.aborted) return;
          if (error.fatal) {
            this.fail(error);
            return;
          }
          if (probe) {
            this.scheduleProbe();
            return;
          }
          this.failures++;
          this.report(error);
          this.scheduleReconnect();
        },
      )
      .finally(() => {
        if (controller) this.aborts.delete(controller);
      });
  }

  private open(auth: { token?: string | null; ticket?: string }, probe: boolean): void {
    if (this.closed || !this.ES) return;
    if (!probe && this.conn) this.dropConnection();
    if (probe && this.conn) return; // a probe is already out
    const url = buildStreamUrl({
      baseUrl: this.opts.baseUrl,
      kind: this.opts.kind,
      id: this.opts.id,
      token: auth.token ?? null,
      ticket: auth.ticket ?? null,
      lastEventId: this._lastId,
    });
    let es: EventSourceLike;
    try {
      es = this.opts.withCredentials ? new this.ES(url, { withCredentials: true }) : new this.ES(url);
    } catch (cause) {
      // A malformed URL: nothing a retry can fix.
      this.fail(new HeraldError('Could not open the event stream', { phase: 'stream', fatal: true, cause }));
      return;
    }
    const conn: Connection = {
      es,
      probe,
      gotMessage: false,
      openedAt: null,
      expectEnd: false,
      serverFault: false,
      ticket: auth.ticket !== undefined,
      timer: null,
      listeners: [],
    };
    const on = (type: string, fn: (event: any) => void) => {
      es.addEventListener(type, fn);
      conn.listeners.push([type, fn]);
    };
    on('open', () => this.onOpen(conn));
    on('message', (ev: { data?: unknown; lastEventId?: unknown }) => this.onMessage(conn, ev));
    on('error', (ev: { data?: unknown }) => {
      // `event: error` from the server is a MessageEvent with data; a connection error has none.
      if (typeof ev?.data === 'string') this.onServerError(conn, ev.data);
      else this.onConnectionError(conn);
    });
    this.conn = conn;
    this.armConnectTimer(conn, 0);
  }

  private armConnectTimer(conn: Connection, extraMs: number): void {
    if (conn.timer !== null) clearTimeout(conn.timer);
    conn.timer = null;
    const limit = this.opts.connectTimeoutMs ?? 30_000;
    if (limit <= 0) return;
    conn.timer = setTimeout(() => {
      conn.timer = null;
      if (this.conn !== conn || this.closed) return;
      // Neither opened nor delivered: treat like a failed connection.
      this.dropConnection();
      if (conn.probe) {
        this.scheduleProbe();
        return;
      }
      this.failures++;
      this.report(new HeraldError('Timed out connecting to the event stream', { phase: 'stream' }));
      this.scheduleReconnect();
    }, limit + extraMs);
  }

  private dropConnection(): void {
    const conn = this.conn;
    if (!conn) return;
    this.conn = null;
    if (conn.timer !== null) clearTimeout(conn.timer);
    conn.timer = null;
    for (const [type, fn] of conn.listeners) conn.es.removeEventListener(type, fn);
    conn.listeners = [];
    conn.es.close();
  }

  private onOpen(conn: Connection): void {
    if (this.conn !== conn || this.closed) return;
    if (conn.timer !== null) clearTimeout(conn.timer);
    conn.timer = null;
    conn.openedAt = this.now();
    if (!conn.probe) this.setState('live');
  }

  private onMessage(conn: Connection, ev: { data?: unknown; lastEventId?: unknown }): void {
    if (this.conn !== conn || this.closed) return;
    if (conn.timer !== null) clearTimeout(conn.timer);
    conn.timer = null;
    conn.gotMessage = true;
    let payload: unknown;
    try {
      payload = JSON.parse(String(ev.data));
    } catch (cause) {
      this.report(new HeraldError('Progress event is not JSON', { phase: 'parse', cause }));
      return;
    }
    const id = parseEventId(ev.lastEventId);
    if (conn.probe) {
      // The stream works again: it takes over from polling.
      if (id !== null && this._lastId !== null && id <= this._lastId) return;
      this.promoteProbe(conn);
    }
    this.failures = 0;
    if (conn.openedAt === null) conn.openedAt = this.now();
    this.setState('live');
    if (this.closed) return;
    this.deliver(payload, id, 'sse');
  }

  private onServerError(conn: Connection, data: string): void {
    if (this.conn !== conn || this.closed) return;
    let message = 'Stream error';
    try {
      const obj = JSON.parse(data) as { error?: unknown };
      if (typeof obj?.error === 'string') message = obj.error;
    } catch {
      // keep the generic message
    }
    if (conn.probe) {
      this.dropConnection();
      this.scheduleProbe();
      return;
    }
    if (message === 'Stream timeout') {
      // The server's SSE_MAX_DURATION: a normal end; reconnect and resume.
      conn.expectEnd = true;
    } else {
      conn.serverFault = true;
      this.report(new HeraldError(message, { phase: 'stream' }));
    }
    this.setState('reconnecting');
  }

  private onConnectionError(conn: Connection): void {
    if (this.conn !== conn || this.closed) return;
    if (conn.probe) {
      this.dropConnection();
      this.scheduleProbe();
      return;
    }
    const stable =
      conn.gotMessage || (conn.openedAt !== null && this.now() - conn.openedAt >= STABLE_CONNECTION_MS);
    if (conn.expectEnd && !conn.serverFault) this.failures = 0;
    else if (stable) this.failures = 1;
    else this.failures++;

    if (conn.es.readyState === CLOSED) {
      // EventSource gave up: the server answered 204 (already at the terminal
      // event), an HTTP error (401/403/404/5xx) or something that is not a
      // stream. It does not say which, so ask /status.
      this.dropConnection();
      this.setState('reconnecting');
      this.diagnose();
      return;
    }
    const limit = Math.max(1, this.opts.maxFailuresBeforePolling ?? 3);
    if (
      conn.es.readyState === CONNECTING &&
      !conn.ticket && // its retry would show the used ticket again: reconnect with a new one instead
      this.failures <= 1 &&
      (this.failures < limit || !this.fetchFn)
    ) {
      // EventSource reconnects by itself after the server's `retry:`, sending
      // Last-Event-ID: let it, once.
      conn.gotMessage = false;
      conn.openedAt = null;
      conn.expectEnd = false;
      conn.serverFault = false;
      this.setState('reconnecting');
      this.armConnectTimer(conn, this.opts.backoff?.initialMs ?? 5000);
      return;
    }
    this.dropConnection();
    this.scheduleReconnect();
  }

  /** After EventSource gave up: one /status request tells a finished job from a refused stream. */
  private diagnose(): void {
    if (!this.fetchFn) {
      this.scheduleReconnect();
      return;
    }
    this.fetchStatus(
      (payload) => {
        this.deliver(payload, null, 'poll');
        if (!this.closed) this.scheduleReconnect(false);
      },
      () => this.scheduleReconnect(false),
    );
  }

  private scheduleReconnect(pollNow = true): void {
    if (this.closed) return;
    const limit = Math.max(1, this.opts.maxFailuresBeforePolling ?? 3);
    if (this.failures >= limit && this.fetchFn) {
      this.enterPolling(pollNow);
      return;
    }
    this.setState('reconnecting');
    const delay = backoffDelay(this.failures, this.opts.backoff, this.random);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect(false);
    }, delay);
  }

  // ---- polling --------------------------------------------------------------

  private enterPolling(pollNow: boolean): void {
    if (this.closed) return;
    this.dropConnection();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.polling = true;
    this.setState('polling');
    if (pollNow) this.poll();
    else this.schedulePoll(0);
    this.scheduleProbe();
  }

  private pollInterval(): number {
    const base = this.opts.pollIntervalMs ?? POLL_MIN_MS;
    if (this.opts.clampPollInterval === false) return Math.max(0, base);
    const clamped = Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, base));
    // Up to 20% jitter so that many clients do not poll in step, never past 10 s.
    return Math.round(Math.min(POLL_MAX_MS, clamped * (1 + 0.2 * this.random())));
  }

  private schedulePoll(atLeastMs: number): void {
    if (this.closed || !this.polling) return;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(
      () => {
        this.pollTimer = null;
        this.poll();
      },
      Math.max(atLeastMs, this.pollInterval()),
    );
  }

  private poll(): void {
    if (this.closed || !this.polling || this.pollInFlight) return;
    this.pollInFlight = true;
    this.fetchStatus(
      (payload) => {
        this.pollInFlight = false;
        this.deliver(payload, null, 'poll');
        this.schedulePoll(0);
      },
      (retryAfterMs) => {
        this.pollInFlight = false;
        this.schedulePoll(retryAfterMs);
      },
    );
  }

  private scheduleProbe(): void {
    if (this.closed || !this.polling || !this.ES) return;
    const every = this.opts.streamRetryWhilePollingMs ?? 60_000;
    if (every <= 0) return;
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      this.connect(true);
    }, every);
  }

  private promoteProbe(conn: Connection): void {
    conn.probe = false;
    this.polling = false;
    this.pollInFlight = false;
    for (const t of [this.pollTimer, this.probeTimer]) if (t !== null) clearTimeout(t);
    this.pollTimer = this.probeTimer = null;
    for (const a of this.aborts) a.abort();
    this.aborts.clear();
  }

  /**
   * GET …/status. `ok` gets the payload; `retry` is called after a transient
   * failure with the wait the server asked for (429 Retry-After), else 0.
   * Fatal answers (400/401/403/404) end the watch.
   */
  private fetchStatus(ok: (payload: unknown) => void, retry: (atLeastMs: number) => void): void {
    const fetchFn = this.fetchFn;
    if (!fetchFn) return;
    const gen = this.generation;
    const alive = () => !this.closed && gen === this.generation;
    this.withToken((token) => {
      const controller = typeof AbortController === 'function' ? new AbortController() : null;
      if (controller) this.aborts.add(controller);
      const done = () => {
        if (controller) this.aborts.delete(controller);
      };
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (token) headers.Authorization = `Bearer ${token}`;
      const url = buildStatusUrl({ baseUrl: this.opts.baseUrl, kind: this.opts.kind, id: this.opts.id });
      let request: Promise<Awaited<ReturnType<FetchLike>>>;
      try {
        request = fetchFn(url, {
          method: 'GET',
          headers,
          credentials: this.opts.withCredentials ? 'include' : 'same-origin',
          cache: 'no-store',
          ...(controller ? { signal: controller.signal } : {}),
        });
      } catch (cause) {
        request = Promise.reject(cause);
      }
      request
        .then(async (res) => {
          if (!alive() || controller?.signal.aborted) return;
          if (!res.ok) {
            const body = (await res.json().catch(() => null)) as { error?: unknown } | null;
            if (!alive()) return;
            const reason = typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`;
            const fatal = isFatalStatus(res.status);
            const error = new HeraldError(`Status request failed: ${reason}`, {
              phase: 'poll',
              status: res.status,
              fatal,
            });
            if (fatal) {
              this.fail(error);
              return;
            }
            this.report(error);
            let wait = 0;
            const ra = res.headers?.get('Retry-After');
            if (res.status === 429 && ra && /^\d+$/.test(ra.trim())) wait = Number(ra.trim()) * 1000;
            retry(wait);
            return;
          }
          let payload: unknown;
          try {
            payload = await res.json();
          } catch (cause) {
            if (!alive()) return;
            this.report(new HeraldError('Status response is not JSON', { phase: 'parse', cause }));
            retry(0);
            return;
          }
          if (!alive()) return;
          ok(payload);
        })
        .catch((cause: unknown) => {
          if (!alive() || controller?.signal.aborted) return;
          this.report(new HeraldError('Status request failed', { phase: 'poll', cause }));
          retry(0);
        })
        .finally(done);
    });
  }
}

/**
 * Watches one job's progress.
 *
 * ```ts
 * const sub = watchJob({ baseUrl: 'https://herald.example.com', kind: 'audit', id: 42, token },
 *   { onProgress: (p) => render(p), onState: (s) => showState(s) });
 * // later
 * sub.close();
 * ```
 *
 * The listener may also be a plain function, called with each progress payload.
 */
export function watchJob<T = ProgressPayload>(
  options: WatchJobOptions,
  listener: JobListener<T> | ((payload: T, meta: ProgressMeta) => void),
): JobSubscription<T> {
  const l: JobListener<T> = typeof listener === 'function' ? { onProgress: listener } : { ...listener };
  const watcher = new JobWatcher<T>(options, l);
  watcher.start();
  return watcher;
}

/** {@link watchJob} for an audit: `kind: 'audit'`. */
export function watchAudit<T = ProgressPayload>(
  id: number | string,
  options: Omit<WatchJobOptions, 'id' | 'kind'>,
  listener: JobListener<T> | ((payload: T, meta: ProgressMeta) => void),
): JobSubscription<T> {
  return watchJob<T>({ ...options, id, kind: 'audit' }, listener);
}
