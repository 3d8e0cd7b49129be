/**
 * An error seen while watching a job.
 *
 * `fatal` errors end the subscription (state `closed`): the server answered
 * 401, 403 or 404, or the token could not be obtained. Other errors are
 * reported and the client carries on (reconnects or keeps polling).
 */
export class HeraldError extends Error {
  /** HTTP status when the error came from a response, else `undefined`. */
  readonly status: number | undefined;
  /** True when the subscription stopped because of this error. */
  readonly fatal: boolean;
  /** What the client was doing: the stream, a status poll, or parsing a payload. */
  readonly phase: 'stream' | 'poll' | 'parse' | 'token';

  constructor(
    message: string,
    opts: { status?: number; fatal?: boolean; phase: HeraldError['phase']; cause?: unknown },
  ) {
    super(message);
    this.name = 'HeraldError';
    this.status = opts.status;
    this.fatal = opts.fatal ?? false;
    this.phase = opts.phase;
    if (opts.cause !== undefined) (this as { cause?: unknown }).cause = opts.cause;
  }
}

/** Statuses after which retrying cannot help. */
export function isFatalStatus(status: number): boolean {
  return status === 401 || status === 403 || status === 404 || status === 400;
}
