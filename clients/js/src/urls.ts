import type { JobKind } from './types.js';

function plural(kind: JobKind): string {
  return kind === 'audit' ? 'audits' : 'jobs';
}

function trimBase(baseUrl: string | undefined): string {
  return (baseUrl ?? '').replace(/\/+$/, '');
}

function withQuery(url: string, params: Record<string, string | number | null | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  if (parts.length === 0) return url;
  return url + (url.includes('?') ? '&' : '?') + parts.join('&');
}

export interface StreamUrlOptions {
  baseUrl?: string;
  kind?: JobKind;
  id: number | string;
  /** Sent as `?token=` (EventSource cannot set headers). Prefer `ticket`. */
  token?: string | null;
  /** A stream ticket (`POST /api/v1/sse/tickets`), sent as `?ticket=`. */
  ticket?: string | null;
  /** Sent as `?last_event_id=` to resume after this event. */
  lastEventId?: number | null;
}

/** `{baseUrl}/api/v1/sse/{audits|jobs}/{id}/progress[?ticket=…|?token=…][&last_event_id=…]` */
export function buildStreamUrl(o: StreamUrlOptions): string {
  const path = `${trimBase(o.baseUrl)}/api/v1/sse/${plural(o.kind ?? 'job')}/${encodeURIComponent(String(o.id))}/progress`;
  return withQuery(path, { ticket: o.ticket, token: o.ticket ? null : o.token, last_event_id: o.lastEventId });
}

/** `{baseUrl}/api/v1/{audits|jobs}/{id}/status` (the polling fallback). */
export function buildStatusUrl(o: { baseUrl?: string; kind?: JobKind; id: number | string }): string {
  return `${trimBase(o.baseUrl)}/api/v1/${plural(o.kind ?? 'job')}/${encodeURIComponent(String(o.id))}/status`;
}

/** `{baseUrl}/notify/events[?events=named][&ticket=…|&token=…]` (the caller's notification stream). */
export function buildNotifyUrl(o: {
  baseUrl?: string;
  token?: string | null;
  ticket?: string | null;
  lastEventId?: number | null;
  /** `?events=named`: `event: <name>` frames instead of plain `data:` ones. */
  named?: boolean;
}): string {
  return withQuery(`${trimBase(o.baseUrl)}/notify/events`, {
    events: o.named ? 'named' : null,
    ticket: o.ticket,
    token: o.ticket ? null : o.token,
    last_event_id: o.lastEventId,
  });
}
