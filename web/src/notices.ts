// Notices: toasts in the corner, and the browser tab's title, so a job that
// finishes while you look at something else (or another tab) gets noticed.

import { $, h } from './dom.js';

let base = 'Herald';
let flash = '';
let unseen = 0;
const told = new Set<number>();

function render(): void {
  // "(2) ✓ Audit #4 completed · Herald" until the next view; else the view's own.
  document.title = (unseen > 0 ? '(' + unseen + ') ' : '') + (flash ? flash + ' · Herald' : base);
}

/** The title of the current view ("Audit #4 · Herald"); clears an old finish notice. */
export function setTitle(title: string): void {
  base = title;
  flash = '';
  render();
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && unseen) {
    unseen = 0;
    render();
  }
});

export function toast(opts: { title: string; text?: string; href?: string; link?: string; kind?: 'good' | 'bad' | 'info'; ms?: number }): HTMLElement {
  const box = $('toasts');
  const close = h('button', { type: 'button', 'aria-label': 'Dismiss' }, '×');
  const el = h(
    'div',
    { class: 'toast', 'data-kind': opts.kind ?? 'info', 'data-testid': 'toast' },
    h(
      'div',
      { class: 'tbody' },
      h('b', null, opts.title),
      opts.text ? h('span', null, opts.text + ' ') : null,
      opts.href ? h('a', { href: opts.href }, opts.link ?? 'Open') : null,
    ),
    close,
  );
  const remove = () => el.remove();
  close.addEventListener('click', remove);
  box.append(el);
  while (box.children.length > 4) box.firstElementChild?.remove();
  const ms = opts.ms ?? 10000;
  let timer = setTimeout(remove, ms);
  // Pause while the pointer or focus is on it.
  el.addEventListener('mouseenter', () => clearTimeout(timer));
  el.addEventListener('mouseleave', () => (timer = setTimeout(remove, ms / 2)));
  el.addEventListener('focusin', () => clearTimeout(timer));
  return el;
}

/**
 * A job reached `completed` or `failed` while this page watched: one toast
 * and a title mark per job, however many places reported it.
 */
export function jobFinished(job: {
  id: number;
  status: string;
  kind: 'audits' | 'jobs';
  name: string;
  score?: number | null;
  reason?: string;
}): void {
  if (told.has(job.id)) return;
  told.add(job.id);
  const ok = job.status === 'completed';
  const what = (job.kind === 'audits' ? 'Audit' : 'Job') + ' #' + job.id;
  const cancelled = job.reason === 'cancelled';
  toast({
    kind: ok ? 'good' : 'bad',
    title: what + (ok ? ' completed' : cancelled ? ' was cancelled' : ' failed'),
    text: job.name + (ok && job.score != null ? ' · score ' + job.score : '') + (!ok && job.reason && !cancelled ? ' · ' + job.reason : ''),
    href: '#/' + job.kind + '/' + job.id,
    link: ok ? (job.kind === 'audits' ? 'See the report' : 'See the result') : 'Details',
  });
  flash = (ok ? '✓ ' : '✗ ') + what + (ok ? ' completed' : cancelled ? ' cancelled' : ' failed');
  if (document.hidden) unseen++;
  render();
}

/** Whether a finish notice was already shown for this job. */
export const alreadyTold = (id: number): boolean => told.has(id);
