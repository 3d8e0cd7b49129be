// #/hub: the hub itself, for admins. GET /metrics (Prometheus text, no
// auth) every 2 s: open streams, connections, events published and
// delivered per second, the bus and its fallback; a chart of the last
// minutes drawn in inline SVG.

import { $, h, sv } from './dom.js';
import { clock, rate } from './format.js';
import { parsePrometheus, perSecond, Scrape } from './prom.js';

const EVERY_MS = 2000;
const WINDOW_MS = 5 * 60_000;
const MIN_SPAN_MS = 20_000;

interface Point {
  t: number;
  published: number;
  delivered: number;
  streams: number;
}

const H = {
  timer: undefined as ReturnType<typeof setTimeout> | undefined,
  running: false,
  prev: null as Scrape | null,
  points: [] as Point[],
  el: {} as Record<string, HTMLElement>,
  chart: null as SVGElement | null,
  generation: 0,
};

function stat(testid: string, title: string): { card: HTMLElement; big: HTMLElement; sub: HTMLElement } {
  const big = h('div', { class: 'big', 'data-testid': testid }, '–');
  const sub = h('div', { class: 'sub' });
  return { card: h('section', { class: 'card stat' }, h('h2', null, title), big, sub), big, sub };
}

export function openHub(): void {
  closeHub();
  const streams = stat('hub-streams', 'Open streams');
  const conns = stat('hub-connections', 'Other connections');
  const pub = stat('hub-published', 'Events published / s');
  const del = stat('hub-delivered', 'Events delivered / s');
  const bus = h('dl', { class: 'kv', 'data-testid': 'hub-bus' });
  const http = h('dl', { class: 'kv', 'data-testid': 'hub-http' });
  const updated = h('span', { class: 'muted small', 'data-testid': 'hub-updated', 'aria-live': 'off' }, 'loading…');
  const error = h('p', { class: 'err', role: 'alert', 'data-testid': 'hub-error' });
  const chart = sv('svg', { class: 'chart', viewBox: '0 0 640 220', role: 'img', 'aria-label': 'Events per second and open streams over the last minutes', 'data-testid': 'hub-chart', 'data-points': 0 });
  H.el = { streams: streams.big, streamsSub: streams.sub, conns: conns.big, connsSub: conns.sub, pub: pub.big, pubSub: pub.sub, del: del.big, delSub: del.sub, bus, http, updated, error };
  H.chart = chart;
  $('view-hub').replaceChildren(
    h('div', { class: 'dhead' }, h('h1', { id: 'hub-title', tabindex: '-1' }, 'Hub'), updated),
    h('p', { class: 'muted small' }, 'This Herald instance, live from ', h('code', null, 'GET /metrics'), ' every 2 seconds.'),
    error,
    h('div', { class: 'hub-grid' }, streams.card, conns.card, pub.card, del.card),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'chart-title' },
      h('h2', { id: 'chart-title' }, 'Activity'),
      h('div', { class: 'legend', 'aria-hidden': 'true' }, h('span', null, h('i', { class: 'l-pub' }), 'published / s'), h('span', null, h('i', { class: 'l-del' }), 'delivered / s'), h('span', null, h('i', { class: 'l-str' }), 'open streams')),
      chart,
    ),
    h(
      'div',
      { class: 'grid' },
      h('section', { class: 'card', 'aria-labelledby': 'bus-title' }, h('h2', { id: 'bus-title' }, 'Event bus'), bus),
      h('section', { class: 'card', 'aria-labelledby': 'http-title' }, h('h2', { id: 'http-title' }, 'Requests and limits'), http),
    ),
  );
  // A gap in the history (the view was closed a while) starts it over.
  const last = H.points[H.points.length - 1];
  if (!last || Date.now() - last.t > 10_000) {
    H.points = [];
    H.prev = null;
  }
  drawChart();
  H.running = true;
  void scrape(++H.generation);
}

window.addEventListener('resize', () => {
  if (H.running) drawChart();
});

export function closeHub(): void {
  H.running = false;
  H.generation++;
  clearTimeout(H.timer);
}

async function scrape(gen: number): Promise<void> {
  try {
    const r = await fetch('/metrics', { cache: 'no-store', credentials: 'same-origin' });
    if (!r.ok) throw new Error('GET /metrics answered ' + r.status);
    const text = await r.text();
    if (gen !== H.generation) return;
    show(new Scrape(parsePrometheus(text), Date.now()));
    H.el.error!.textContent = '';
  } catch (e) {
    if (gen !== H.generation) return;
    H.el.error!.textContent = 'Cannot read the metrics: ' + (e as Error).message;
  }
  if (H.running && gen === H.generation) H.timer = setTimeout(() => void scrape(gen), EVERY_MS);
}

const int = (v: number | null) => (v === null ? '–' : String(Math.round(v)));

function kv(el: HTMLElement, rows: [string, string | Node, string?][]): void {
  el.replaceChildren(...rows.flatMap(([k, v, cls]) => [h('dt', null, k), h('dd', { class: cls ?? null }, v)]));
}

function show(s: Scrape): void {
  const prev = H.prev;
  H.prev = s;
  const progress = s.get('herald_sse_streams_open') ?? 0;
  const notify = s.get('herald_notify_streams_open') ?? 0;
  const published = perSecond(prev, s, 'herald_events_published_total');
  const delivered = perSecond(prev, s, 'herald_events_delivered_total');
  const E = H.el;
  E.streams!.textContent = int(progress + notify);
  E.streamsSub!.textContent = int(progress) + ' progress · ' + int(notify) + ' notification';
  E.conns!.textContent = int(s.get('herald_http_sessions_open'));
  E.connsSub!.textContent = int(s.get('herald_sse_streams_total')) + ' streams opened since start';
  E.pub!.textContent = published === null ? '…' : rate(published);
  E.pubSub!.textContent = int(s.get('herald_events_published_total')) + ' in all';
  E.del!.textContent = delivered === null ? '…' : rate(delivered);
  E.delSub!.textContent = int(s.get('herald_events_delivered_total')) + ' in all · ' + int(s.get('herald_events_dropped_slow_total')) + ' conflated for slow clients';

  const info = s.labels('herald_info') ?? {};
  const fallback = s.get('herald_bus_fallback');
  const redis = info.redis ?? 'n/a';
  kv(E.bus!, [
    ['Live updates from', info.sse_source ?? '–'],
    ['Redis', redis, redis === 'up' ? 'state-ok' : redis === 'down' ? 'state-bad' : ''],
    [
      'Fallback',
      fallback ? 'on: streams poll the database' : 'off',
      fallback ? 'state-warn' : 'state-ok',
    ],
    ['Heartbeats sent', int(s.get('herald_heartbeats_total'))],
    ['Version', info.version ?? '–'],
  ]);
  const code = (c: string) => int(s.get('herald_http_requests_total', { code: c }));
  const count = s.get('herald_http_request_duration_seconds_count');
  const sum = s.get('herald_http_request_duration_seconds_sum');
  kv(E.http!, [
    ['Requests', '2xx ' + code('2xx') + ' · 4xx ' + code('4xx') + ' · 5xx ' + code('5xx')],
    ['Mean answer time', count ? (((sum ?? 0) / count) * 1000).toFixed(1) + ' ms' : '–'],
    ['Refused: connection limit', int(s.get('herald_refused_connection_limit_total'))],
    ['Refused: streams per user', int(s.get('herald_refused_stream_limit_total'))],
    ['Refused: accept rate', int(s.get('herald_refused_accept_rate_total'))],
  ]);
  E.updated!.textContent = 'Updated ' + clock(new Date(s.at));

  if (published !== null && delivered !== null) {
    H.points.push({ t: s.at, published, delivered, streams: progress + notify });
    while (H.points.length && s.at - H.points[0]!.t > WINDOW_MS) H.points.shift();
  }
  drawChart();
}

/** Two panels sharing the time axis: events per second above, open streams below. */
function drawChart(): void {
  const svg = H.chart;
  if (!svg) return;
  // Drawn at the size it is shown, so the text is the size of the page's.
  const W = Math.max(320, Math.round(svg.getBoundingClientRect().width) || 640);
  svg.setAttribute('viewBox', '0 0 ' + W + ' 220');
  const left = 44;
  const right = 8;
  const pts = H.points;
  const now = pts.length ? pts[pts.length - 1]!.t : Date.now();
  // The time axis grows with the history, from 20 s to five minutes.
  const span = Math.min(WINDOW_MS, Math.max(MIN_SPAN_MS, pts.length ? now - pts[0]!.t : 0));
  const x = (t: number) => left + ((t - (now - span)) / span) * (W - left - right);
  const panel = (top: number, height: number, series: { key: keyof Point; cls: string }[], label: string, area = false) => {
    const max = Math.max(1, ...pts.flatMap((p) => series.map((s) => p[s.key])));
    const nice = niceMax(max);
    const y = (v: number) => top + height - (v / nice) * height;
    const kids: SVGElement[] = [
      sv('line', { class: 'grid-line', x1: left, x2: W - right, y1: top, y2: top }),
      sv('line', { class: 'grid-line', x1: left, x2: W - right, y1: top + height / 2, y2: top + height / 2 }),
      sv('line', { class: 'grid-line', x1: left, x2: W - right, y1: top + height, y2: top + height }),
      sv('text', { class: 'axis', x: left - 6, y: top + 4, 'text-anchor': 'end' }, rate(nice)),
      sv('text', { class: 'axis', x: left - 6, y: top + height + 3, 'text-anchor': 'end' }, '0'),
      sv('text', { class: 'axis', x: left + 4, y: top + 11 }, label),
    ];
    for (const s of series) {
      if (pts.length < 1) continue;
      const line = pts.map((p) => x(p.t).toFixed(1) + ',' + y(p[s.key]).toFixed(1)).join(' ');
      if (area && pts.length > 1) {
        kids.push(sv('polygon', { class: 'area', points: x(pts[0]!.t).toFixed(1) + ',' + (top + height) + ' ' + line + ' ' + x(now).toFixed(1) + ',' + (top + height) }));
      }
      kids.push(sv('polyline', { class: s.cls, points: line, 'data-series': s.key }));
    }
    return kids;
  };
  svg.replaceChildren(
    ...panel(8, 80, [{ key: 'published', cls: 's-pub' }, { key: 'delivered', cls: 's-del' }], 'events / s'),
    ...panel(112, 80, [{ key: 'streams', cls: 's-str' }], 'open streams', true),
    sv('text', { class: 'axis', x: left, y: 212 }, ago(span)),
    sv('text', { class: 'axis', x: W - right, y: 212, 'text-anchor': 'end' }, 'now'),
  );
  svg.setAttribute('data-points', String(pts.length));
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? s + ' s ago' : Math.round(s / 6) / 10 + ' min ago';
}

function niceMax(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.5, 2, 3, 5, 7.5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
