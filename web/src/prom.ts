// The Prometheus text format (what GET /metrics answers), read into
// samples: name, labels, value. Comments (# HELP, # TYPE) are skipped.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/g;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function number(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

export function parsePrometheus(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1]!] = unescape(l[2]!);
    out.push({ name: m[1]!, labels, value: number(m[3]!) });
  }
  return out;
}

/** Lookups over one scrape. */
export class Scrape {
  constructor(
    readonly samples: PromSample[],
    readonly at: number,
  ) {}

  /** The value of `name` (summed over its label sets), or null when absent. */
  get(name: string, labels?: Record<string, string>): number | null {
    let sum: number | null = null;
    for (const s of this.samples) {
      if (s.name !== name) continue;
      if (labels && Object.entries(labels).some(([k, v]) => s.labels[k] !== v)) continue;
      sum = (sum ?? 0) + s.value;
    }
    return sum;
  }

  labels(name: string): Record<string, string> | null {
    return this.samples.find((s) => s.name === name)?.labels ?? null;
  }
}

/** Per-second increase of a counter between two scrapes (0 after a restart reset it). */
export function perSecond(prev: Scrape | null, cur: Scrape, name: string): number | null {
  if (!prev) return null;
  const a = prev.get(name);
  const b = cur.get(name);
  const dt = (cur.at - prev.at) / 1000;
  if (a === null || b === null || dt <= 0) return null;
  return b >= a ? (b - a) / dt : b / dt;
}
