// The list of the caller's audits and jobs (admins: everyone's), newest
// first: search, status filter, pages of PAGE_SIZE; kept live by the
// notification stream (see app.ts).

import { api, type HttpError } from './api.js';
import { $, h } from './dom.js';
import { fmt1, plural, pretty, scoreClass, shortUrl, when } from './format.js';

export const PAGE_SIZE = 20;
export const TERMINAL = (s: unknown): boolean => s === 'completed' || s === 'failed';

export interface Item {
  id: number;
  type: string;
  status: string;
  progress?: number;
  url?: string;
  title?: string;
  message?: string;
  geo_score?: number;
  error?: string;
  error_message?: string;
  created_at?: string;
  [k: string]: unknown;
}

export function norm(p: any): Item {
  const o = { ...p } as Item;
  o.id = Number(p.id ?? p.audit_id ?? p.job_id);
  if (p.audit_id != null) o.type = 'audit';
  return o;
}

export const kindOf = (it: { type?: string }): 'audits' | 'jobs' => (it.type === 'audit' ? 'audits' : 'jobs');
export const nameOf = (it: Item): string =>
  it.type === 'audit' ? shortUrl(it.url) || 'Audit ' + it.id : it.title || pretty(it.type) + ' job';

const L = {
  q: '',
  status: '',
  offset: 0,
  items: [] as Item[],
  hasMore: false,
  loaded: false,
  /** Answers to older requests are dropped. */
  generation: 0,
};

/** Everything the list knows about a job (also for other views). */
export const known = new Map<number, Item>();

function rowContent(it: Item): HTMLElement[] {
  const audit = it.type === 'audit';
  const sub = ['#' + it.id, audit ? 'Audit' : pretty(it.type)];
  if (it.status === 'failed' && (it.error_message || it.error)) sub.push(String(it.error_message || it.error));
  else if (it.message && !TERMINAL(it.status)) sub.push(it.message);
  else if (it.created_at) sub.push(when(it.created_at));
  const pct = Math.max(0, Math.min(100, Math.round(Number(it.progress) || 0)));
  const meta: HTMLElement[] = [h('span', { class: 'chip st-' + it.status }, it.status)];
  if (it.status === 'completed' && it.geo_score != null) {
    meta.push(h('span', { class: 'small ' + scoreClass(it.geo_score) }, h('b', null, fmt1(it.geo_score)), ' / 100'));
  } else if (!TERMINAL(it.status)) {
    meta.push(
      h(
        'span',
        { class: 'mini-line' },
        h('span', { class: 'mini', 'aria-hidden': 'true' }, h('span', { style: { width: pct + '%' } })),
        h('span', { class: 'pct', 'data-testid': 'row-percent' }, pct + '%'),
      ),
    );
  }
  return [
    h('span', { class: 'row-main' }, h('span', { class: 'row-title' }, nameOf(it)), h('span', { class: 'row-sub' }, sub.join(' · '))),
    h('span', { class: 'row-meta' }, meta),
    h('span', { class: 'sr' }, ', ' + it.status + (TERMINAL(it.status) ? '' : ', ' + pct + '%')),
  ];
}

function rowEl(it: Item): HTMLElement {
  const a = h('a', { class: 'row', href: '#/' + kindOf(it) + '/' + it.id }, rowContent(it));
  return h('li', { 'data-id': it.id, 'data-testid': (it.type === 'audit' ? 'audit-row-' : 'job-row-') + it.id, 'data-status': it.status }, a);
}

function render(): void {
  const filtered = L.q !== '' || L.status !== '';
  const empty = filtered
    ? 'Nothing matches' + (L.q ? ' “' + L.q + '”' : '') + (L.status ? ' with status ' + L.status : '') + '.'
    : L.offset > 0
      ? 'No older items.'
      : 'Nothing yet. Start an audit to see it here.';
  $('rows').replaceChildren(...(L.items.length ? L.items.map(rowEl) : [h('li', { class: 'empty' }, empty)]));
  const first = L.offset + 1;
  const last = L.offset + L.items.length;
  const onePage = L.offset === 0 && !L.hasMore;
  $('list-count').textContent = !L.items.length
    ? ''
    : onePage
      ? plural(L.items.length, 'item')
      : (first === last ? 'Item ' + first : 'Items ' + first + '–' + last) + (L.hasMore ? '' : ' of ' + last);
  const prev = $('page-prev') as HTMLButtonElement;
  const next = $('page-next') as HTMLButtonElement;
  prev.disabled = L.offset === 0;
  next.disabled = !L.hasMore;
  prev.hidden = next.hidden = onePage;
}

/** "#12" is job 12 itself; anything else is a search (/api/v1/jobs lists audits too). */
async function fetchPage(params: URLSearchParams): Promise<{ items?: any[]; has_more?: boolean }> {
  const id = /^#(\d+)$/.exec(L.q)?.[1];
  if (!id) return api('/api/v1/jobs?' + params);
  try {
    const job = await api('/api/v1/jobs/' + id);
    return { items: L.offset === 0 && (!L.status || job.status === L.status) ? [job] : [], has_more: false };
  } catch (e) {
    if ((e as HttpError).status === 404 || (e as HttpError).status === 403) return { items: [], has_more: false };
    throw e;
  }
}

/** Loads the current page with the current search; `quiet` keeps errors off the page (background refresh). */
export async function loadList(quiet = false): Promise<void> {
  const mine = ++L.generation;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(L.offset) });
  if (L.q) params.set('q', L.q);
  if (L.status) params.set('status', L.status);
  if (!quiet) $('rows').setAttribute('aria-busy', 'true');
  try {
    const page = await fetchPage(params);
    if (mine !== L.generation) return;
    L.items = (page.items ?? []).map(norm);
    L.hasMore = typeof page.has_more === 'boolean' ? page.has_more : L.items.length >= PAGE_SIZE;
    L.loaded = true;
    for (const it of L.items) known.set(it.id, { ...(known.get(it.id) ?? {}), ...it });
    if (!quiet) $('list-error').textContent = '';
    render();
  } catch (e) {
    if (mine === L.generation && !quiet) $('list-error').textContent = (e as Error).message;
    throw e;
  } finally {
    if (mine === L.generation) $('rows').setAttribute('aria-busy', 'false');
  }
}

function matches(it: Item): boolean {
  if (L.status && it.status !== L.status) return false;
  if (!L.q) return true;
  const q = L.q.toLowerCase();
  if (/^#\d+$/.test(q)) return '#' + it.id === q;
  return [it.url, it.title, it.type, String(it.id)].some((v) => typeof v === 'string' && v.toLowerCase().includes(q));
}

/** A job changed (from the notification stream, a watch or an action). Returns the merged item. */
export function upsert(p: any): Item | null {
  const it = norm(p);
  if (!it.id) return null;
  const merged = { ...(known.get(it.id) ?? {}), ...it } as Item;
  known.set(it.id, merged);
  const at = L.items.findIndex((x) => x.id === it.id);
  if (at >= 0) {
    L.items[at] = merged;
    const li = $('rows').querySelector<HTMLElement>('li[data-id="' + it.id + '"]');
    if (li) {
      li.dataset.status = merged.status;
      li.firstElementChild!.replaceChildren(...rowContent(merged));
      return merged;
    }
  } else if (L.loaded && L.offset === 0 && matches(merged) && merged.id > (L.items[L.items.length - 1]?.id ?? 0)) {
    // New (newer than what the first page shows): at the top, in id order.
    L.items.push(merged);
    L.items.sort((x, y) => y.id - x.id);
    if (L.items.length > PAGE_SIZE) {
      L.items.length = PAGE_SIZE;
      L.hasMore = true;
    }
  } else return merged;
  render();
  return merged;
}

export function resetList(): void {
  L.items = [];
  L.loaded = false;
  L.offset = 0;
  known.clear();
  $('rows').replaceChildren();
  $('list-count').textContent = '';
}

const query = (v: string): string => v.trim();

let searchTimer: ReturnType<typeof setTimeout> | undefined;
export function initList(): void {
  const search = $('list-search') as HTMLInputElement;
  const status = $('list-status') as HTMLSelectElement;
  const reload = () => loadList().catch(() => {});
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const q = query(search.value);
      if (q === L.q) return;
      L.q = q;
      L.offset = 0;
      reload();
    }, 250);
  });
  $('list-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(searchTimer);
    L.q = query(search.value);
    L.offset = 0;
    reload();
  });
  status.addEventListener('change', () => {
    L.status = status.value;
    L.offset = 0;
    reload();
  });
  $('page-prev').addEventListener('click', () => {
    L.offset = Math.max(0, L.offset - PAGE_SIZE);
    reload();
  });
  $('page-next').addEventListener('click', () => {
    L.offset += PAGE_SIZE;
    reload();
  });
  $('refresh').addEventListener('click', reload);
}
