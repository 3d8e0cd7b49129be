// An audit's report: score, severity and category charts, AI crawler
// access, the findings grouped by check (a problem found on many pages is
// shown once, with its pages), and the pages themselves.

import { h, linkOrText, sv, type Child } from './dom.js';
import { cap, fmt1, pathOf, plural, pretty } from './format.js';

export const SEVS = ['critical', 'high', 'medium', 'low'] as const;
type Sev = (typeof SEVS)[number];

interface Finding {
  check_id: string;
  /** The page it was found on; empty for a site-wide finding. */
  page?: string;
  /** A site-wide finding may name the pages it concerns. */
  pages?: string[];
  message: string;
  fix?: string;
  /** What was found, quoted from the page or file (and its line). */
  evidence?: string;
  line?: number;
  severity: Sev;
}

/** One place a check fired: a page (or the site), with what was found there. */
interface Place {
  page: string;
  message: string;
  evidence?: string;
  line?: number;
}

/** One check's findings at one severity. */
export interface FindingGroup {
  check: string;
  severity: Sev;
  findings: Finding[];
  places: Place[];
  /** Distinct pages among the places. */
  pages: number;
  /** The same message everywhere. */
  sameMessage: boolean;
}

/** Groups the report's findings by check, most severe first, then most widespread. */
export function groupFindings(rep: any): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const s of SEVS) {
    for (const f of (rep?.findings?.[s] ?? []) as Omit<Finding, 'severity'>[]) {
      const key = s + '\n' + f.check_id;
      let g = groups.get(key);
      if (!g) {
        g = { check: f.check_id, severity: s, findings: [], places: [], pages: 0, sameMessage: true };
        groups.set(key, g);
      }
      if (g.findings.length && g.findings[0]!.message !== f.message) g.sameMessage = false;
      g.findings.push({ ...f, severity: s });
      if (f.page || f.evidence) g.places.push({ page: f.page ?? '', message: f.message, evidence: f.evidence, line: f.line });
      for (const p of Array.isArray(f.pages) ? f.pages : []) if (typeof p === 'string') g.places.push({ page: p, message: f.message });
    }
  }
  for (const g of groups.values()) g.pages = new Set(g.places.map((p) => p.page).filter(Boolean)).size;
  const rank = (s: Sev) => SEVS.indexOf(s);
  return [...groups.values()].sort(
    (a, b) => rank(a.severity) - rank(b.severity) || b.findings.length - a.findings.length || a.check.localeCompare(b.check),
  );
}

function evidence(p: Place): Child {
  if (!p.evidence) return null;
  return h('span', { class: 'ev' }, p.line ? ' line ' + p.line + ': ' : ' ', h('code', null, p.evidence));
}

const color = (v: number) => (v >= 80 ? '#16a34a' : v >= 50 ? '#e0a100' : '#dc2626');

function gauge(score: number): SVGElement {
  const v = Math.max(0, Math.min(100, Number(score) || 0));
  const arc = 'M12 62 A48 48 0 0 1 108 62';
  return sv(
    'svg',
    { class: 'gauge', viewBox: '0 0 120 72', role: 'img', 'aria-label': 'GEO score ' + fmt1(v) + ' out of 100', 'data-testid': 'score', 'data-score': fmt1(v) },
    sv('path', { d: arc, class: 'g-track', pathLength: 100 }),
    sv('path', { d: arc, class: 'g-val', pathLength: 100, stroke: color(v), 'stroke-dasharray': v + ' 100' }),
    sv('text', { x: 60, y: 54, 'text-anchor': 'middle', class: 'g-num' }, fmt1(v)),
    sv('text', { x: 60, y: 66, 'text-anchor': 'middle', class: 'g-sub' }, 'out of 100'),
  );
}

interface Bar {
  key: string;
  label: string;
  value: number;
  pct?: number;
  text?: string;
  cls?: string;
  color?: string;
}

function hbars(rows: Bar[], testid: string, label: string, labelWidth?: string): HTMLElement {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return h(
    'ul',
    { class: 'hbars', 'data-testid': testid, 'aria-label': label },
    rows.map((r) =>
      h(
        'li',
        { 'data-key': r.key, style: labelWidth ? { 'grid-template-columns': labelWidth + ' minmax(0,1fr) 2.5rem' } : null },
        h('span', null, r.label),
        h(
          'span',
          { class: 'track', 'aria-hidden': 'true' },
          h('span', {
            class: 'fill ' + (r.cls ?? ''),
            style: { width: (r.pct ?? (r.value / max) * 100) + '%', ...(r.color ? { background: r.color } : {}) },
          }),
        ),
        h('span', { class: 'num' }, r.text ?? r.value),
      ),
    ),
  );
}

function findingsCard(rep: any): HTMLElement {
  const groups = groupFindings(rep);
  const total = groups.reduce((n, g) => n + g.findings.length, 0);
  const perSev = (s: Sev) => groups.filter((g) => g.severity === s).reduce((n, g) => n + g.findings.length, 0);
  const active = new Set<Sev>(SEVS);
  const list = h('ul', { class: 'findings', 'data-testid': 'findings' });
  const shown = h('p', { class: 'muted small', 'aria-live': 'polite', 'data-testid': 'findings-shown' });

  for (const g of groups) {
    const n = g.findings.length;
    const where: Child[] = [];
    const one = g.places.length === 1 && (g.sameMessage || n === 1) ? g.places[0]! : null;
    if (g.places.length === 0) {
      where.push(h('p', { class: 'fpage' }, 'Site-wide'));
    } else if (one) {
      where.push(h('p', { class: 'fpage' }, one.page ? ['Page: ', linkOrText(one.page)] : 'Site-wide', evidence(one)));
    } else {
      where.push(
        h(
          'details',
          { 'data-testid': 'finding-pages' },
          h('summary', null, g.pages ? 'On ' + plural(g.pages, 'page') : plural(g.places.length, 'place')),
          h(
            'ul',
            null,
            g.places.map((p) =>
              h('li', null, p.page ? linkOrText(p.page) : 'Site-wide', g.sameMessage ? null : h('span', { class: 'pm' }, ' — ' + p.message), evidence(p)),
            ),
          ),
        ),
      );
    }
    list.append(
      h(
        'li',
        { 'data-testid': 'finding', 'data-severity': g.severity, 'data-check': g.check, 'data-count': n, 'data-pages': g.pages },
        h(
          'div',
          { class: 'fhead' },
          h('span', { class: 'sev sev-' + g.severity }, g.severity),
          h('code', null, g.check),
          n > 1 ? h('span', { class: 'fcount', 'data-testid': 'finding-count', title: plural(n, 'finding') }, '× ' + n) : null,
        ),
        h('p', { class: 'fmsg' }, g.sameMessage || n === 1 ? g.findings[0]!.message : g.findings[0]!.message + ' (and ' + plural(n - 1, 'similar finding') + ')'),
        where,
        g.findings[0]!.fix ? h('p', { class: 'fix' }, h('b', null, 'Fix: '), g.findings[0]!.fix) : null,
      ),
    );
  }

  const buttons = SEVS.map((s) =>
    h(
      'button',
      {
        type: 'button',
        'aria-pressed': 'true',
        'data-testid': 'filter-' + s,
        'data-severity': s,
        title: 'Show or hide ' + s + ' findings',
        onclick: () => {
          if (active.has(s)) active.delete(s);
          else active.add(s);
          apply();
        },
      },
      h('span', { class: 'tick', 'aria-hidden': 'true' }),
      cap(s),
      h('span', { class: 'n' }, String(perSev(s))),
    ),
  );
  const allBtn = h(
    'button',
    {
      type: 'button',
      class: 'all',
      'data-testid': 'filter-all',
      onclick: () => {
        SEVS.forEach((s) => active.add(s));
        apply();
      },
    },
    'Show all',
  );
  function apply() {
    buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(active.has(SEVS[i]!))));
    allBtn.disabled = active.size === SEVS.length;
    let checks = 0;
    let findings = 0;
    for (const li of list.children as HTMLCollectionOf<HTMLElement>) {
      const on = active.has(li.dataset.severity as Sev);
      li.hidden = !on;
      if (on) {
        checks++;
        findings += Number(li.dataset.count) || 0;
      }
    }
    const hidden = SEVS.filter((s) => !active.has(s));
    shown.textContent = total
      ? 'Showing ' + plural(checks, 'check') + ' with ' + plural(findings, 'finding') + ' of ' + total +
        (hidden.length ? ' (' + hidden.join(', ') + ' hidden)' : '')
      : 'No findings: nothing to fix.';
  }
  apply();
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'find-title' },
    h('h2', { id: 'find-title' }, 'Findings by check'),
    h('div', { class: 'filters', role: 'group', 'aria-label': 'Show findings of these severities' }, buttons, h('span', { class: 'sep', 'aria-hidden': 'true' }), allBtn),
    shown,
    list,
  );
}

export function renderReport(rep: any, job: any): HTMLElement {
  const counts = rep.issue_counts ?? {};
  const pages: any[] = rep.pages ?? [];
  const total = SEVS.reduce((n, s) => n + (rep.findings?.[s]?.length ?? 0), 0);
  const score = Number(rep.geo_score ?? job.geo_score) || 0;
  const analysed = Number(rep.total_pages ?? pages.length) || 0;

  const scoreCard = h(
    'section',
    { class: 'card gauge-box', 'aria-labelledby': 'score-title' },
    h('h2', { id: 'score-title' }, 'GEO score'),
    gauge(score),
    h('p', { class: 'muted small' }, plural(analysed, 'page') + ' analysed · ' + plural(total, 'issue')),
  );
  const sevCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'sev-title' },
    h('h2', { id: 'sev-title' }, 'Issues by severity'),
    hbars(SEVS.map((s) => ({ key: s, label: cap(s), value: Number(counts[s]) || 0, cls: 'f-' + s })), 'severity-chart', 'Issue counts by severity'),
  );
  const breakdown: any[] = rep.score_breakdown ?? [];
  const cats: Bar[] = breakdown.map((c) => {
    const v = Number(c.score) || 0;
    return { key: c.name, label: pretty(c.name), value: v, pct: v, text: fmt1(v), color: color(v) };
  });
  const catCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'cat-title' },
    h('h2', { id: 'cat-title' }, 'Categories'),
    cats.length ? hbars(cats, 'category-chart', 'Category scores out of 100', '8.5rem') : h('p', { class: 'muted' }, 'No breakdown.'),
    h('p', { class: 'muted small' }, 'Weights: ' + breakdown.map((c) => pretty(c.name) + ' ' + Math.round(c.weight * 100) + '%').join(', ')),
  );

  const site = rep.site ?? {};
  const crawlers = Object.entries(site.ai_crawlers ?? {}) as [string, string][];
  const st = (n: unknown) => (n ? String(n) : 'no response');
  const skipped: string[] = site.skipped_by_robots ?? [];
  const siteCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'site-title' },
    h('h2', { id: 'site-title' }, 'AI crawler access'),
    h(
      'div',
      { class: 'crawlers', 'data-testid': 'ai-crawlers' },
      crawlers.map(([bot, v]) => h('span', { class: 'chip ' + (v === 'allowed' ? 'ok' : v === 'blocked' ? 'no' : 'unk') }, bot + ': ' + v)),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'robots.txt'),
      h('dd', null, st(site.robots_txt)),
      h('dt', null, 'llms.txt'),
      h('dd', null, st(site.llms_txt)),
      h('dt', null, 'sitemap.xml'),
      h('dd', null, st(site.sitemap)),
    ),
    skipped.length
      ? h(
          'details',
          { 'data-testid': 'skipped' },
          h('summary', null, plural(skipped.length, 'URL') + (skipped.length === 1 ? ' was' : ' were') + ' skipped because robots.txt disallows ' + (skipped.length === 1 ? 'it' : 'them')),
          h('ul', { class: 'plain' }, skipped.map((u) => h('li', null, u))),
        )
      : null,
  );

  const byPage = new Map<string, Finding[]>();
  for (const s of SEVS)
    for (const f of rep.findings?.[s] ?? []) {
      for (const page of [f.page, ...(Array.isArray(f.pages) ? f.pages : [])]) {
        if (!page || typeof page !== 'string') continue;
        if (!byPage.has(page)) byPage.set(page, []);
        byPage.get(page)!.push({ ...f, severity: s });
      }
    }
  const pagesCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'pages-title' },
    h('h2', { id: 'pages-title' }, 'Pages (' + pages.length + ')'),
    pages.length ? null : h('p', { class: 'muted' }, 'No pages were fetched.'),
    pages.map((pg) => {
      const fs = byPage.get(pg.url) ?? [];
      const bad = pg.error || !(pg.status >= 200 && pg.status < 400);
      return h(
        'details',
        { class: 'page', 'data-testid': 'page', 'data-url': pg.url },
        h(
          'summary',
          null,
          h('span', { class: 'chip ' + (bad ? 'no' : 'ok') }, pg.error ? 'error' : String(pg.status)),
          h('span', { class: 'purl', title: pg.url }, pathOf(pg.url)),
          h('span', { class: 'small muted' }, plural(pg.issues ?? fs.length, 'issue')),
        ),
        h(
          'div',
          { class: 'pbody' },
          h(
            'dl',
            { class: 'facts' },
            h('dt', null, 'URL'),
            h('dd', null, linkOrText(pg.url)),
            h('dt', null, 'Status'),
            h('dd', null, pg.status ? String(pg.status) : 'no response'),
            pg.error ? [h('dt', null, 'Error'), h('dd', null, pg.error)] : null,
            h('dt', null, 'Title'),
            h('dd', null, pg.title || '—'),
            h('dt', null, 'Words'),
            h('dd', null, String(pg.word_count ?? 0)),
            h('dt', null, 'H1 headings'),
            h('dd', null, String(pg.h1_count ?? 0)),
            h('dt', null, 'Response'),
            h('dd', null, Math.round(pg.response_ms || 0) + ' ms, ' + Math.round((pg.bytes || 0) / 102.4) / 10 + ' KB'),
            h('dt', null, 'JSON-LD'),
            h('dd', null, (pg.jsonld_types ?? []).join(', ') || 'none'),
          ),
          fs.length
            ? h('ul', { class: 'plain' }, fs.map((f) => h('li', null, h('span', { class: 'sev sev-' + f.severity }, f.severity), ' ', f.message)))
            : h('p', { class: 'muted small' }, 'No issues on this page.'),
        ),
      );
    }),
  );

  return h(
    'div',
    { 'data-testid': 'report', id: 'report' },
    h('h2', { class: 'sr' }, 'Report'),
    h('div', { class: 'grid g3' }, scoreCard, sevCard, catCard),
    siteCard,
    findingsCard(rep),
    pagesCard,
  );
}
