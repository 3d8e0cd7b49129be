// One audit or job: progress from clients/js's watchJob (stream, reconnects,
// Last-Event-ID, polling fallback), a step log, elapsed time and an
// estimate, cancel, re-run and export; then the report or the failure.

import { watchJob, type HeraldError, type JobSubscription, type ProgressMeta, type ProgressPayload } from 'herald-client';
import { api, HttpError, post } from './api.js';
import { $, h, linkOrText, setBadge } from './dom.js';
import { Eta } from './eta.js';
import { clock, duration, pretty, shortUrl, when } from './format.js';
import { TERMINAL, upsert } from './list.js';
import { jobFinished, setTitle } from './notices.js';
import { renderReport } from './report.js';
import { mayCancel } from './session.js';

type Kind = 'audits' | 'jobs';

interface Els {
  title: HTMLElement;
  status: HTMLElement;
  badge: HTMLElement;
  meta: HTMLElement;
  fill: HTMLElement;
  pct: HTMLElement;
  step: HTMLElement;
  elapsed: HTMLElement;
  eta: HTMLElement;
  log: HTMLElement;
  failure: HTMLElement;
  report: HTMLElement;
  actions: HTMLElement;
  bar: HTMLElement;
}

interface Detail {
  kind: Kind;
  id: number;
  sub: JobSubscription | null;
  closed: boolean;
  done: boolean;
  job: any;
  /** The status when the page opened: a finish seen later is news. */
  initialStatus: string | null;
  status: string;
  lastSeq: number;
  progress: number;
  lastLog: string;
  lastError: string;
  finishedAt: number | null;
  eta: Eta;
  tick: ReturnType<typeof setInterval> | undefined;
  el: Els;
}

let current: Detail | null = null;

export function closeDetail(): void {
  const d = current;
  if (!d) return;
  d.closed = true;
  d.sub?.close();
  d.sub = null;
  clearInterval(d.tick);
  current = null;
}

const noun = (d: Detail) => (d.kind === 'audits' ? 'audit' : 'job');

export function openDetail(kind: Kind, id: number): void {
  closeDetail();
  const Noun = kind === 'audits' ? 'Audit' : 'Job';
  const fill = h('span');
  const el: Els = {
    title: h('h1', { id: 'detail-title', tabindex: '-1' }, Noun + ' #' + id),
    status: h('span', { class: 'chip st-pending', 'data-testid': 'status' }, 'loading'),
    badge: h('span', { class: 'badge', 'data-testid': 'connection-badge', 'data-state': 'connecting', role: 'status', 'aria-live': 'polite', 'aria-label': 'Connection' }, 'connecting'),
    meta: h('div', { class: 'dmeta' }),
    fill,
    pct: h('span', { 'aria-hidden': 'true', 'data-testid': 'percent' }, '0%'),
    step: h('p', { class: 'step', 'data-testid': 'step' }, 'Waiting for the first update…'),
    elapsed: h('span', { 'data-testid': 'elapsed' }),
    eta: h('span', { 'data-testid': 'eta', 'aria-live': 'off' }),
    log: h('ol', { class: 'log', 'data-testid': 'log', 'aria-live': 'polite', 'aria-relevant': 'additions' }),
    failure: h('div'),
    report: h('div'),
    actions: h('div', { class: 'actions', 'data-testid': 'actions' }),
    bar: h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, 'aria-labelledby': 'progress-label', 'data-testid': 'progress' }, fill),
  };
  const d: Detail = {
    kind,
    id,
    sub: null,
    closed: false,
    done: false,
    job: null,
    initialStatus: null,
    status: 'pending',
    lastSeq: 0,
    progress: 0,
    lastLog: '',
    lastError: '',
    finishedAt: null,
    eta: new Eta(),
    tick: undefined,
    el,
  };
  current = d;
  $('view-detail').replaceChildren(
    h('a', { class: 'back', href: '#/' }, '← All audits and jobs'),
    h('div', { class: 'dhead' }, el.title, el.actions),
    el.meta,
    el.failure,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'progress-title' },
      h('div', { class: 'list-head' }, h('h2', { id: 'progress-title' }, 'Progress'), el.status, el.badge),
      h('div', { class: 'progress-line' }, h('span', { id: 'progress-label', class: 'muted' }, 'Progress'), el.pct),
      el.bar,
      h('div', { class: 'timing', 'data-testid': 'timing' }, el.elapsed, el.eta),
      el.step,
      h('div', { class: 'logwrap', tabindex: '0', role: 'region', 'aria-label': 'Step log' }, el.log),
    ),
    el.report,
  );
  setTitle(Noun + ' #' + id + ' · Herald');

  api('/api/v1/' + kind + '/' + id).then(
    (job) => {
      if (d.closed) return;
      d.job = job;
      d.initialStatus = job.status;
      renderMeta(d, job);
      setStatus(d, job.status);
      renderActions(d);
      d.tick = setInterval(() => renderTiming(d), 1000);
      renderTiming(d);
      watch(d);
    },
    (e: HttpError) => {
      if (d.closed) return;
      setBadge(el.badge, 'closed');
      el.step.textContent = '';
      showFailure(d, e.status === 404 ? Noun + ' not found' : e.status === 403 ? 'Not allowed' : 'Could not load', e.message);
    },
  );
}

function watch(d: Detail): void {
  d.sub = watchJob(
    {
      kind: d.kind === 'audits' ? 'audit' : 'job',
      id: d.id,
      // From event 0: the stream replays the retained history (the log), then goes live.
      lastEventId: 0,
      // No token: the session cookie authenticates the stream and the polls.
      // Two refused streams in a row are enough to fall back to polling.
      maxFailuresBeforePolling: 2,
    },
    {
      onProgress: (p, meta) => apply(d, p, meta),
      onState: (s) => {
        if (!d.closed) setBadge(d.el.badge, s);
      },
      onError: (e: HeraldError) => {
        if (d.closed) return;
        if (e.status === 401) {
          // The session ended: api() signs out.
          api('/api/v1/session').catch(() => {});
          return;
        }
        if (e.fatal) {
          setBadge(d.el.badge, 'closed');
          logLine(d, e.message, 'bad');
          return;
        }
        if (e.message !== d.lastError) logLine(d, e.message + ' (retrying)', 'warn');
        d.lastError = e.message;
      },
    },
  );
}

function renderMeta(d: Detail, job: any): void {
  const audit = d.kind === 'audits';
  if (audit && job.url) d.el.title.replaceChildren('Audit of ', shortUrl(job.url));
  else if (!audit) d.el.title.textContent = job.title || pretty(job.type) + ' job #' + d.id;
  const bits: (string | Node)[] = ['#' + d.id];
  bits.push(audit ? linkOrText(job.url) : pretty(job.type));
  if (job.max_pages) bits.push('up to ' + job.max_pages + ' pages');
  if (job.created_at) bits.push('started ' + when(job.created_at));
  if (job.owner) bits.push('owner ' + job.owner);
  d.el.meta.replaceChildren(...bits.flatMap((b, i) => (i ? [h('span', { 'aria-hidden': 'true' }, '·'), b] : [b])));
}

function setStatus(d: Detail, status: string): void {
  d.status = status;
  d.el.status.className = 'chip st-' + status;
  d.el.status.textContent = status;
}

function logLine(d: Detail, text: string, cls: string | null, step?: string, at?: string, seq?: number | null): void {
  const t = at ? new Date(at) : new Date();
  const ok = !isNaN(t.getTime());
  const li = h(
    'li',
    { class: cls, 'data-seq': seq || null },
    h('time', { datetime: (ok ? t : new Date()).toISOString() }, clock(ok ? t : new Date())),
    h('span', null, step ? h('span', { class: 'steptag' }, step) : null, text),
  );
  d.el.log.append(li);
  const wrap = d.el.log.parentElement!;
  wrap.scrollTop = wrap.scrollHeight;
}

function apply(d: Detail, p: ProgressPayload, meta: Pick<ProgressMeta, 'id'>): void {
  if (d.closed) return;
  const seq = meta.id ?? (typeof p.seq === 'number' ? p.seq : 0);
  if (seq && seq <= d.lastSeq) return; // already shown
  if (seq) d.lastSeq = seq;
  d.lastError = '';
  const status = p.status || 'pending';
  d.progress = Math.max(d.progress, Number(p.progress) || 0);
  if (status === 'completed') d.progress = 100;
  if (status === 'running') d.eta.add(d.progress, p.updated_at);
  d.el.fill.style.width = d.progress + '%';
  d.el.bar.setAttribute('aria-valuenow', String(d.progress));
  d.el.bar.dataset.status = status;
  d.el.pct.textContent = d.progress + '%';
  setStatus(d, status);
  const msg = p.message || (status === 'pending' ? 'Waiting for a worker…' : pretty(status));
  d.el.step.replaceChildren(p.step ? h('span', { class: 'steptag' }, p.step) : '', msg);
  const key = (p.step || '') + '\n' + msg + '\n' + status;
  if (key !== d.lastLog) {
    d.lastLog = key;
    logLine(d, msg, status === 'failed' ? 'bad' : null, p.step, p.updated_at, seq);
  }
  if (TERMINAL(status)) {
    const at = Date.parse(String(p.updated_at ?? ''));
    d.finishedAt = Number.isFinite(at) ? at : d.eta.now();
  }
  if (d.job) d.job = { ...d.job, status, progress: d.progress, error_message: p.error_message ?? d.job.error_message };
  upsert({ ...p, id: d.id });
  renderTiming(d);
  renderActions(d);
  if (TERMINAL(status)) void finish(d, p);
}

function renderTiming(d: Detail): void {
  const started = Date.parse(String(d.job?.created_at ?? ''));
  const el = d.el;
  if (!Number.isFinite(started)) {
    el.elapsed.textContent = '';
    el.eta.textContent = '';
    return;
  }
  if (TERMINAL(d.status)) {
    clearInterval(d.tick);
    el.elapsed.replaceChildren('Took ', h('b', null, duration((d.finishedAt ?? d.eta.now()) - started)));
    el.eta.textContent = '';
    el.eta.hidden = true;
    return;
  }
  el.elapsed.replaceChildren('Elapsed ', h('b', null, duration(d.eta.now() - started)));
  el.eta.hidden = false;
  if (d.status === 'pending') {
    el.eta.textContent = 'Waiting for a worker';
    el.eta.dataset.state = 'waiting';
    return;
  }
  const left = d.eta.remaining();
  if (left === null) {
    el.eta.textContent = 'estimating…';
    el.eta.dataset.state = 'estimating';
  } else if (left < 1000) {
    el.eta.textContent = 'finishing…';
    el.eta.dataset.state = 'finishing';
  } else {
    el.eta.replaceChildren('about ', h('b', null, duration(left)), ' left');
    el.eta.dataset.state = 'estimate';
  }
}

function renderActions(d: Detail): void {
  const job = d.job;
  const box = d.el.actions!;
  if (!job || box.dataset.confirming === 'true') return;
  const audit = d.kind === 'audits';
  const kids: Node[] = [];
  if (!TERMINAL(d.status) && mayCancel(job.owner)) {
    kids.push(h('button', { type: 'button', class: 'danger', 'data-testid': 'cancel', onclick: () => confirmCancel(d) }, 'Cancel ' + noun(d)));
  }
  if (audit && d.status === 'completed') {
    const base = '/api/v1/audits/' + d.id + '/report?format=';
    kids.push(
      h('a', { class: 'btn', href: base + 'json', download: 'herald-audit-' + d.id + '.json', 'data-testid': 'export-json' }, 'Export JSON'),
      h('a', { class: 'btn', href: base + 'markdown', download: 'herald-audit-' + d.id + '.md', 'data-testid': 'export-markdown' }, 'Export Markdown'),
    );
  }
  if (audit && TERMINAL(d.status) && job.url) {
    kids.push(h('button', { type: 'button', class: 'primary', 'data-testid': 'rerun', onclick: (e: Event) => rerun(d, e.currentTarget as HTMLButtonElement) }, 'Run again'));
  }
  const sig = kids.map((k) => (k as HTMLElement).dataset.testid).join();
  if (box.dataset.sig === sig) return;
  box.dataset.sig = sig;
  box.replaceChildren(...kids);
}

function confirmCancel(d: Detail): void {
  const box = d.el.actions!;
  box.dataset.confirming = 'true';
  const done = () => {
    delete box.dataset.confirming;
    delete box.dataset.sig;
    renderActions(d);
  };
  const yes = h('button', { type: 'button', class: 'danger-solid', 'data-testid': 'confirm-cancel' }, 'Yes, cancel it');
  const no = h('button', { type: 'button', 'data-testid': 'keep-running' }, 'Keep it running');
  yes.addEventListener('click', async () => {
    yes.disabled = no.disabled = true;
    try {
      const job = await post('/api/v1/' + d.kind + '/' + d.id + '/cancel');
      done();
      apply(d, job, { id: typeof job.seq === 'number' ? job.seq : null });
    } catch (e) {
      done();
      logLine(d, 'Cancel failed: ' + (e as Error).message, 'bad');
    }
  });
  no.addEventListener('click', done);
  box.replaceChildren(h('span', { class: 'confirm', role: 'group', 'aria-label': 'Confirm cancel' }, 'Cancel this ' + noun(d) + '?', yes, no));
  yes.focus();
}

async function rerun(d: Detail, btn: HTMLButtonElement): Promise<void> {
  btn.disabled = true;
  try {
    const body: Record<string, unknown> = { url: d.job.url };
    if (d.job.max_pages) body.max_pages = d.job.max_pages;
    const job = await post('/api/v1/audits', body);
    upsert(job);
    location.hash = '#/audits/' + job.id;
  } catch (e) {
    btn.disabled = false;
    logLine(d, 'Could not start it again: ' + (e as Error).message, 'bad');
  }
}

function showFailure(d: Detail, title: string, why: string): void {
  d.el.failure.replaceChildren(h('div', { class: 'failure', role: 'alert', 'data-testid': 'failure' }, h('h2', null, title), h('p', null, why)));
}

async function finish(d: Detail, p: ProgressPayload): Promise<void> {
  if (d.done) return;
  d.done = true;
  d.sub?.close();
  d.sub = null;
  setBadge(d.el.badge, 'closed');
  const audit = d.kind === 'audits';
  const why = String(p.error_message || p.error || d.job?.error_message || '');
  if (d.initialStatus && !TERMINAL(d.initialStatus)) {
    jobFinished({
      id: d.id,
      kind: d.kind,
      status: p.status,
      name: audit ? shortUrl(d.job?.url) : d.job?.title || pretty(d.job?.type) + ' job',
      score: typeof p.geo_score === 'number' ? p.geo_score : null,
      reason: why,
    });
  }
  if (p.status === 'failed') {
    showFailure(d, why === 'cancelled' ? 'This ' + noun(d) + ' was cancelled' : audit ? 'The audit failed' : 'The job failed', why || 'No reason was given.');
    return;
  }
  let job = d.job;
  if (!job || (audit ? !job.report : job.data === undefined)) {
    try {
      job = await api('/api/v1/' + d.kind + '/' + d.id);
    } catch (e) {
      logLine(d, 'Could not load the result: ' + (e as Error).message, 'bad');
      return;
    }
  }
  if (d.closed) return;
  d.job = job;
  renderActions(d);
  if (audit && job.report) d.el.report.replaceChildren(renderReport(job.report, job));
  else if (audit) d.el.report.replaceChildren(h('section', { class: 'card', 'data-testid': 'report' }, h('h2', null, 'Report'), h('p', { class: 'muted' }, 'This audit has no report.')));
  else
    d.el.report.replaceChildren(
      h(
        'section',
        { class: 'card', 'data-testid': 'report' },
        h('h2', null, 'Result'),
        job.data != null ? h('pre', { class: 'data' }, JSON.stringify(job.data, null, 2)) : h('p', { class: 'muted' }, 'The job completed without result data.'),
      ),
    );
}

/** The detail view's own job, for the notification stream to skip (the watch reports it). */
export const watchedId = (): number | null => current?.id ?? null;
