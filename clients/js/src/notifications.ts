import { backoffDelay, type BackoffOptions } from './backoff.js';
import { HeraldError } from './errors.js';
import { requestStreamTicket } from './tickets.js';
import type {
  EventSourceConstructorLike,
  EventSourceLike,
  FetchLike,
  ProgressPayload,
  StreamAuth,
  TokenSource,
} from './types.js';
import { buildNotifyUrl } from './urls.js';

/** A notice posted to `POST /api/v1/notifications`. */
export interface Notice<D = unknown> {
  type: string;
  data: D;
  created_at?: string;
  [field: string]: unknown;
}

/** Options of {@link watchNotifications}. */
export interface WatchNotificationsOptions {
  baseUrl?: string;
  /** See `WatchJobOptions.token`: buys a stream ticket per connection; leave out to use the `auth_token` cookie. */
  token?: TokenSource;
  /** See `WatchJobOptions.streamAuth` (default `'ticket'`). */
  streamAuth?: StreamAuth;
  /** The fetch function for tickets. Default: `globalThis.fetch`. */
  fetchImpl?: FetchLike | null;
  withCredentials?: boolean;
  /**
   * Notice types to deliver (default: every notice). With `named: true`
   * these are also the event names listened for (EventSource delivers a
   * named event only to a listener for that name).
   */
  types?: string[];
  /**
   * Ask for named events (`?events=named`: `event: audit`, `event: job`,
   * `event: <type>`) instead of the default plain `data:` events that carry
   * their kind as `"event"` in the data (what `EventSource.onmessage` sees).
   * Either way the listener gets the same calls.
   */
  named?: boolean;
  eventSourceImpl?: EventSourceConstructorLike | null;
  backoff?: BackoffOptions;
  random?: () => number;
}

/** Callbacks of {@link watchNotifications}. */
export interface NotificationListener {
  /** A change to one of the caller's jobs (`event: audit` or `event: job`). */
  onJob?(payload: ProgressPayload, meta: { id: number | null; event: 'audit' | 'job' }): void;
  /** A notice of one of `options.types`. */
  onNotice?(notice: Notice, meta: { id: number | null; event: string }): void;
  onState?(state: 'connecting' | 'live' | 'reconnecting' | 'closed'): void;
  onError?(error: HeraldError): void;
}

export interface NotificationSubscription {
  readonly state: 'connecting' | 'live' | 'reconnecting' | 'closed';
  close(): void;
}

/**
 * Watches the caller's notification stream (`GET /notify/events`). It does not
 * end by itself: EventSource reconnects after a drop (sending Last-Event-ID);
 * when it gives up (an HTTP error), this reconnects with exponential backoff
 * and `?last_event_id=`. Events already seen are not delivered twice.
 */
export function watchNotifications(
  options: WatchNotificationsOptions,
  listener: NotificationListener,
): NotificationSubscription {
  const g = globalThis as { EventSource?: EventSourceConstructorLike; fetch?: FetchLike };
  const ES = options.eventSourceImpl === undefined ? (g.EventSource ?? null) : options.eventSourceImpl;
  const fetchFn =
    options.fetchImpl === undefined
      ? typeof g.fetch === 'function'
        ? g.fetch.bind(globalThis)
        : null
      : options.fetchImpl;
  let ticketsUnsupported = false;
  const random = options.random ?? Math.random;
  let state: NotificationSubscription['state'] = 'connecting';
  let closed = false;
  let es: EventSourceLike | null = null;
  let handlers: Array<[string, (ev: any) => void]> = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let failures = 0;
  let lastId: number | null = null;
  let gen = 0;

  const setState = (next: NotificationSubscription['state']) => {
    if (closed || state === next) return;
    state = next;
    listener.onState?.(next);
  };
  const report = (e: HeraldError) => {
    if (!closed) listener.onError?.(e);
  };
  const drop = () => {
    if (!es) return;
    for (const [t, fn] of handlers) es.removeEventListener(t, fn);
    handlers = [];
    es.close();
    es = null;
  };
  const fresh = (ev: { lastEventId?: unknown }): { ok: boolean; id: number | null } => {
    const raw = ev.lastEventId;
    const id = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : null;
    if (id !== null && lastId !== null && id <= lastId) return { ok: false, id };
    if (id !== null) lastId = id;
    return { ok: true, id };
  };
  const parse = (data: unknown): unknown => {
    try {
      return JSON.parse(String(data));
    } catch (cause) {
      report(new HeraldError('Notification is not JSON', { phase: 'parse', cause }));
      return undefined;
    }
  };
  const scheduleReconnect = () => {
    setState('reconnecting');
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      connect();
    }, backoffDelay(failures, options.backoff, random));
  };

  const open = (auth: { token?: string | null; ticket?: string }) => {
    if (closed || !ES) return;
    drop();
    const url = buildNotifyUrl({
      baseUrl: options.baseUrl,
      token: auth.token ?? null,
      ticket: auth.ticket ?? null,
      lastEventId: lastId,
      named: options.named === true,
    });
    const withTicket = auth.ticket !== undefined;
    const source = options.withCredentials ? new ES(url, { withCredentials: true }) : new ES(url);
    es = source;
    const on = (type: string, fn: (ev: any) => void) => {
      source.addEventListener(type, fn);
      handlers.push([type, fn]);
    };
    on('open', () => setState('live'));
    const wanted = (type: string) => !options.types || options.types.includes(type);
    const job = (kind: 'audit' | 'job', payload: unknown, id: number | null) => {
      if (payload && typeof payload === 'object') listener.onJob?.(payload as ProgressPayload, { id, event: kind });
    };
    const notice = (type: string, value: unknown, id: number | null) => {
      if (value && typeof value === 'object' && wanted(type)) listener.onNotice?.(value as Notice, { id, event: type });
    };
    const seen = () => {
      failures = 0;
      setState('live');
    };
    if (options.named) {
      for (const kind of ['audit', 'job'] as const) {
        on(kind, (ev: { data?: unknown; lastEventId?: unknown }) => {
          seen();
          const f = fresh(ev);
          if (f.ok) job(kind, parse(ev.data), f.id);
        });
      }
      for (const type of options.types ?? []) {
        if (type === 'audit' || type === 'job' || type === 'error' || type === 'open' || type === 'message') continue;
        on(type, (ev: { data?: unknown; lastEventId?: unknown }) => {
          seen();
          const f = fresh(ev);
          if (f.ok) notice(type, parse(ev.data), f.id);
        });
      }
    } else {
      // Plain events: the kind is in the data ("event": audit, job or notice).
      on('message', (ev: { data?: unknown; lastEventId?: unknown }) => {
        seen();
        const f = fresh(ev);
        if (!f.ok) return;
        const value = parse(ev.data) as { event?: unknown; type?: unknown } | undefined;
        if (!value || typeof value !== 'object') return;
        const { event, ...rest } = value;
        if (event === 'audit' || event === 'job') job(event, rest, f.id);
        else if (event === 'notice' && typeof rest.type === 'string') notice(rest.type, rest, f.id);
      });
    }
    on('error', (ev: { data?: unknown }) => {
      if (typeof ev?.data === 'string') {
        // `event: error` from the server (Stream timeout, Internal server error): the stream ends next.
        setState('reconnecting');
        return;
      }
      failures++;
      // A ticket is single use: EventSource's own retry would show it again.
      if (source.readyState === 2 || failures > 1 || withTicket) {
        drop();
        scheduleReconnect();
      } else {
        setState('reconnecting'); // EventSource retries by itself after the server's retry:
      }
    });
  };

  const fail = (e: HeraldError) => {
    if (closed) return;
    listener.onError?.(e);
    closed = true;
    gen++;
    drop();
    if (timer !== null) clearTimeout(timer);
    timer = null;
    state = 'closed';
    listener.onState?.('closed');
  };
  const withTicket = (token: string) => {
    const mine = gen;
    requestStreamTicket({
      baseUrl: options.baseUrl,
      token,
      target: { stream: 'notify' },
      fetchImpl: fetchFn!,
      withCredentials: options.withCredentials,
    }).then(
      (answer) => {
        if (closed || mine !== gen) return;
        if ('ticket' in answer) {
          open({ ticket: answer.ticket });
          return;
        }
        ticketsUnsupported = true;
        report(new HeraldError('This server has no stream tickets: the token goes in the stream URL', { phase: 'stream' }));
        open({ token });
      },
      (error: HeraldError) => {
        if (closed || mine !== gen) return;
        if (error.fatal) {
          fail(error); // a refused token: retrying cannot help
          return;
        }
        report(error);
        failures++;
        scheduleReconnect();
      },
    );
  };
  const start = (token: string | null) => {
    if (token && fetchFn && !ticketsUnsupported && (options.streamAuth ?? 'ticket') === 'ticket') withTicket(token);
    else open({ token });
  };

  const connect = () => {
    if (closed) return;
    const t = options.token;
    if (typeof t !== 'function') {
      start(t ?? null);
      return;
    }
    const mine = gen;
    Promise.resolve()
      .then(() => t())
      .then(
        (token) => {
          if (!closed && mine === gen) start(token ?? null);
        },
        (cause) => {
          if (closed || mine !== gen) return;
          report(new HeraldError('Could not get a token', { phase: 'token', cause }));
          failures++;
          scheduleReconnect();
        },
      );
  };

  if (!ES) {
    state = 'closed';
    closed = true;
    listener.onError?.(new HeraldError('EventSource is not available', { phase: 'stream', fatal: true }));
  } else {
    connect();
  }

  return {
    get state() {
      return state;
    },
    close() {
      if (closed) return;
      closed = true;
      gen++;
      state = 'closed';
      drop();
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
