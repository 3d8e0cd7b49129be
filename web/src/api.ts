// JSON requests to Herald, authenticated by the HttpOnly session cookie
// (same origin): no token is kept in script, storage or URLs.

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

let onUnauthorized: ((e: HttpError) => void) | null = null;
/** Called when a request answers 401 while signed in (the session ended). */
export function setUnauthorizedHandler(fn: (e: HttpError) => void): void {
  onUnauthorized = fn;
}

/** One request; `token` (only for signing in) goes in the Authorization header. */
export async function request<T = any>(path: string, opts: RequestInit = {}, token?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  if (opts.body) headers['Content-Type'] = 'application/json';
  let r: Response;
  try {
    r = await fetch(path, { ...opts, headers, cache: 'no-store', credentials: 'same-origin' });
  } catch {
    throw new HttpError('Network error: the server cannot be reached.', 0);
  }
  const text = await r.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!r.ok) throw new HttpError((body && body.error) || r.status + ' ' + (r.statusText || 'error'), r.status);
  return body as T;
}

/** A request of a signed-in page: a 401 ends the session. */
export async function api<T = any>(path: string, opts: RequestInit = {}): Promise<T> {
  try {
    return await request<T>(path, opts);
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) onUnauthorized?.(e);
    throw e;
  }
}

export const post = <T = any>(path: string, body?: unknown): Promise<T> =>
  api<T>(path, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
