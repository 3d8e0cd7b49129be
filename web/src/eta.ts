// Elapsed time and a finish estimate for a running job, from its progress
// over time. Times are the server's (`updated_at`), so a replayed history
// counts too; "now" is the page's clock corrected by the difference seen.

interface Sample {
  t: number; // server time, ms
  p: number; // progress 0-100
}

/** Progress older than this does not shape the estimate (the pace may change). */
const WINDOW_MS = 120_000;

export class Eta {
  private samples: Sample[] = [];
  /** Browser clock minus server clock (plus latency), smallest seen. */
  private skew: number | null = null;

  /**
   * Records one update as it arrives; `at` is its `updated_at`. Arrival
   * minus `at` is the skew plus the delay; the smallest seen (an update
   * that arrived as it happened, not a replayed one) is the best guess.
   */
  add(progress: number, at: string | undefined): void {
    const server = at ? Date.parse(at) : NaN;
    const arrived = Date.now();
    if (Number.isFinite(server)) {
      const d = arrived - server;
      this.skew = this.skew === null ? d : Math.min(this.skew, d);
    }
    const t = Number.isFinite(server) ? server : arrived - (this.skew ?? 0);
    const last = this.samples[this.samples.length - 1];
    if (last && progress < last.p) this.samples = []; // started over
    if (last && progress === last.p) return; // only changes show the pace
    this.samples.push({ t, p: progress });
    if (this.samples.length > 500) this.samples.splice(0, this.samples.length - 500);
  }

  /** The server's clock now, as well as this page can tell. */
  now(): number {
    return Date.now() - (this.skew ?? 0);
  }

  /**
   * Milliseconds left, or null while there is not enough to go on (fewer
   * than two progress values, or less than 1.5 s or 1 point between them).
   */
  remaining(now = this.now()): number | null {
    const last = this.samples[this.samples.length - 1];
    if (!last || last.p >= 100) return null;
    let first: Sample | undefined;
    for (const s of this.samples) {
      if (last.t - s.t <= WINDOW_MS && s.p < last.p) {
        first = s;
        break;
      }
    }
    if (!first) return null;
    const dt = last.t - first.t;
    const dp = last.p - first.p;
    if (dt < 1500 || dp < 1) return null;
    const pace = dp / dt; // points per ms
    const left = (100 - last.p) / pace;
    return Math.max(0, last.t + left - now);
  }
}
