import { HeraldError, isFatalStatus } from './errors.js';
import type { FetchLike } from './types.js';

/** What a ticket opens: one job's or audit's progress stream, or the caller's notifications. */
export type TicketTarget = { job_id: number | string } | { audit_id: number | string } | { stream: 'notify' };

/** The answer of {@link requestStreamTicket}. */
export type TicketAnswer =
  | { ticket: string }
  /** The server has no `/api/v1/sse/tickets` (a Herald older than tickets). */
  | { unsupported: true };

/**
 * `POST {baseUrl}/api/v1/sse/tickets`: trades the token (sent in the
 * `Authorization` header, never in a URL) for a ticket that opens the one
 * stream named by `target`, once, within 60 s. A stream URL then carries
 * `?ticket=` instead of the long-lived token, so the token does not end up in
 * proxy or server access logs.
 *
 * Rejects with a {@link HeraldError}: `fatal` when retrying cannot help
 * (400/401/403/404: a bad or expired token, a job the caller may not watch),
 * otherwise (429, 5xx, network) a retry may.
 */
export async function requestStreamTicket(o: {
  baseUrl?: string;
  token: string;
  target: TicketTarget;
  fetchImpl: FetchLike;
  withCredentials?: boolean;
  signal?: AbortSignal;
}): Promise<TicketAnswer> {
  const url = `${(o.baseUrl ?? '').replace(/\/+$/, '')}/api/v1/sse/tickets`;
  const body: Record<string, unknown> = { ...o.target };
  for (const k of ['job_id', 'audit_id'] as const) {
    if (typeof body[k] === 'string' && /^\d+$/.test(body[k] as string)) body[k] = Number(body[k]);
  }
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await o.fetchImpl(url, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: `Bearer ${o.token}` },
      body: JSON.stringify(body),
      credentials: o.withCredentials ? 'include' : 'same-origin',
      cache: 'no-store',
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (cause) {
    throw new HeraldError('Could not get a stream ticket', { phase: 'stream', cause });
  }
  const answer = (await res.json().catch(() => null)) as { ticket?: unknown; error?: unknown } | null;
  if (res.ok && typeof answer?.ticket === 'string' && answer.ticket !== '') return { ticket: answer.ticket };
  // Only the router's own 404 means "no such endpoint"; a 404 about the job is final.
  if (res.status === 404 && answer?.error === 'no such endpoint') return { unsupported: true };
  const reason = typeof answer?.error === 'string' ? answer.error : res.ok ? 'no ticket in the answer' : `HTTP ${res.status}`;
  throw new HeraldError(`Stream ticket refused: ${reason}`, {
    phase: 'stream',
    status: res.status,
    fatal: !res.ok && isFatalStatus(res.status),
  });
}
