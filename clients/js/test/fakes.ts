import type { FetchLike, ResponseLike } from '../src/types.js';

type Listener = (event: any) => void;

/** A scriptable stand-in for the browser's EventSource. */
export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  /** Every instance created, oldest first. */
  static instances: FakeEventSource[] = [];

  static reset(): void {
    FakeEventSource.instances = [];
  }
  static get last(): FakeEventSource {
    const es = FakeEventSource.instances[FakeEventSource.instances.length - 1];
    if (!es) throw new Error('no EventSource was created');
    return es;
  }

  readonly url: string;
  readonly withCredentials: boolean;
  readyState = FakeEventSource.CONNECTING;
  closeCalls = 0;
  private listeners = new Map<string, Set<Listener>>();

  constructor(url: string, init?: { withCredentials?: boolean }) {
    this.url = url;
    this.withCredentials = init?.withCredentials ?? false;
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, fn: Listener): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(fn);
  }
  removeEventListener(type: string, fn: Listener): void {
    this.listeners.get(type)?.delete(fn);
  }
  close(): void {
    this.closeCalls++;
    this.readyState = FakeEventSource.CLOSED;
  }
  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
  get query(): URLSearchParams {
    return new URL(this.url, 'http://x').searchParams;
  }

  private dispatch(type: string, event: object): void {
    for (const fn of [...(this.listeners.get(type) ?? [])]) fn({ type, ...event });
  }
  /** The response headers arrived. */
  open(): void {
    this.readyState = FakeEventSource.OPEN;
    this.dispatch('open', {});
  }
  /** An `event: message` with this id and JSON payload. */
  message(id: number | null, payload: unknown): void {
    this.dispatch('message', {
      data: typeof payload === 'string' ? payload : JSON.stringify(payload),
      lastEventId: id === null ? '' : String(id),
    });
  }
  /** A named event (e.g. `event: job` on the notification stream). */
  named(type: string, id: number | null, payload: unknown): void {
    this.dispatch(type, { data: JSON.stringify(payload), lastEventId: id === null ? '' : String(id) });
  }
  /** `event: error` with `data: {"error": …}` from the server. */
  serverError(message: string): void {
    this.dispatch('error', { data: JSON.stringify({ error: message }), lastEventId: '' });
  }
  /** The connection dropped and the browser will retry by itself (readyState CONNECTING). */
  drop(): void {
    this.readyState = FakeEventSource.CONNECTING;
    this.dispatch('error', {});
  }
  /** The browser gave up (204, 401, 5xx, wrong content type): readyState CLOSED. */
  fail(): void {
    this.readyState = FakeEventSource.CLOSED;
    this.dispatch('error', {});
  }
}

export interface FakeCall {
  url: string;
  init: Parameters<FetchLike>[1];
}

export type FakeReply =
  | { status?: number; body?: unknown; headers?: Record<string, string> }
  | Error
  | 'hang';

/** A fake fetch answering from a queue (the last reply repeats). */
export function fakeFetch(...replies: FakeReply[]) {
  const calls: FakeCall[] = [];
  const queue = [...replies];
  let lastReply: FakeReply = { status: 200, body: {} };
  const fn: FetchLike = (url, init) => {
    calls.push({ url, init });
    const reply = queue.length > 0 ? queue.shift()! : lastReply;
    lastReply = reply;
    if (reply instanceof Error) return Promise.reject(reply);
    if (reply === 'hang') {
      return new Promise((_, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      });
    }
    const status = reply.status ?? 200;
    const headers = reply.headers ?? {};
    const res: ResponseLike = {
      ok: status >= 200 && status < 300,
      status,
      headers: { get: (name: string) => headers[name] ?? headers[name.toLowerCase()] ?? null },
      json: () => Promise.resolve(reply.body),
    };
    return Promise.resolve(res);
  };
  return Object.assign(fn, {
    calls,
    /** Replace what the following calls answer. */
    reply(...next: FakeReply[]) {
      queue.length = 0;
      queue.push(...next);
    },
  });
}

export const running = (seq: number, progress: number, extra: object = {}) => ({
  job_id: 7,
  type: 'translation',
  status: 'running',
  progress,
  seq,
  ...extra,
});
export const completed = (seq: number, extra: object = {}) => ({
  job_id: 7,
  type: 'translation',
  status: 'completed',
  progress: 100,
  seq,
  ...extra,
});
