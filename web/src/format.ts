// Small text helpers: numbers, plurals, dates, durations, URLs.

export const fmt1 = (n: unknown): string => (Math.round(Number(n) * 10) / 10).toString();
export const cap = (s: string | undefined | null): string => (s ? s.charAt(0).toUpperCase() + s.slice(1) : '');
export const pretty = (s: unknown): string => cap(String(s ?? '').replace(/[_.]/g, ' '));
export const scoreClass = (v: number): string => (v >= 80 ? 'sc-good' : v >= 50 ? 'sc-warn' : 'sc-bad');

/** "1 page", "2 pages"; `many` for irregular plurals ("1 URL was", "2 URLs were" take two calls). */
export function plural(n: number, one: string, many = one + 's'): string {
  return n + ' ' + (n === 1 ? one : many);
}

export function clock(d?: Date): string {
  return (d ?? new Date()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function when(iso: unknown): string {
  const d = new Date(String(iso ?? ''));
  return isNaN(d.getTime()) ? '' : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** A duration as people say it: "42 s", "3 min 05 s", "1 h 02 min". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + String(s % 60).padStart(2, '0') + ' s';
  const h = Math.floor(m / 60);
  return h + ' h ' + String(m % 60).padStart(2, '0') + ' min';
}

/** A rate with at most one decimal and no trailing ".0": 0, 0.4, 12, 1.2k. */
export function rate(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0';
  if (n >= 10000) return fmt1(n / 1000) + 'k';
  return n >= 100 ? String(Math.round(n)) : fmt1(n);
}

export function pathOf(u: string): string {
  try {
    const x = new URL(u);
    return x.pathname + x.search;
  } catch {
    return u || '';
  }
}

export function shortUrl(u: unknown): string {
  const s = typeof u === 'string' ? u : '';
  try {
    const x = new URL(s);
    return x.host + (x.pathname === '/' ? '' : x.pathname) + x.search;
  } catch {
    return s;
  }
}
