// Who is signed in (from GET/POST /api/v1/session). The token itself is
// never kept: it lives only in the HttpOnly cookie.

export interface Who {
  sub?: string;
  role?: string;
  expires_at?: string;
}

export const session = { signedIn: false, who: null as Who | null };

export const isAdmin = (): boolean => session.who?.role === 'admin';

/** The owner or an admin may cancel a job. */
export const mayCancel = (owner: unknown): boolean => isAdmin() || (owner != null && owner === session.who?.sub);
