// Herald's dashboard: sign in, routes, the live list, the notification
// stream. Bundled with clients/js ('herald-client') into the one page the
// server embeds (web/build.mjs).

import { watchNotifications, type NotificationSubscription } from 'herald-client';
import { api, HttpError, post, request, setUnauthorizedHandler } from './api.js';
import { closeDetail, openDetail, watchedId } from './detail.js';
import { $, setBadge } from './dom.js';
import { shortUrl } from './format.js';
import { closeHub, openHub } from './hub.js';
import { initList, kindOf, known, loadList, nameOf, resetList, TERMINAL, upsert } from './list.js';
import { alreadyTold, jobFinished, setTitle, toast } from './notices.js';
import { isAdmin, session, type Who } from './session.js';

const LEGACY_TOKEN_KEY = 'herald_token'; // where older versions kept the token
let feed: NotificationSubscription | null = null;
let feedState = 'offline';
let lastSessionCheck = 0;

// ---------- auth ----------
// The token is shown to the server once (POST /api/v1/session) and comes
// back as an HttpOnly, SameSite=Strict cookie: no script on this page, or
// one injected into it, can read it, and no stream URL carries it.

function signedIn(who: Who): void {
  session.signedIn = true;
  session.who = who;
  $('who').textContent = who.sub ? 'Signed in as ' + who.sub + (who.role && who.role !== 'user' ? ' (' + who.role + ')' : '') : 'Signed in';
  $('signout').hidden = false;
  $('nav').hidden = false;
  $('nav').querySelector<HTMLElement>('[data-nav=hub]')!.hidden = !isAdmin();
  ($('token') as HTMLInputElement).value = '';
  connectFeed();
  route(true);
}

async function signIn(t: string): Promise<void> {
  $('signin-error').textContent = '';
  if (!t) {
    $('signin-error').textContent = 'Enter a token.';
    return;
  }
  let who: Who;
  try {
    who = await request<Who>('/api/v1/session', { method: 'POST' }, t);
    session.signedIn = true;
    await loadList();
  } catch (e) {
    const err = e as HttpError;
    session.signedIn = false;
    $('signin-error').textContent = err.status === 401 ? 'That token was not accepted: ' + err.message + '.' : err.message;
    if (err.status !== 401) ($('token') as HTMLInputElement).value = t;
    show('signin');
    return;
  }
  signedIn(who);
}

// On load: an existing session cookie signs in without asking.
async function resumeSession(): Promise<void> {
  let who: Who;
  try {
    who = await request<Who>('/api/v1/session', {});
  } catch (e) {
    if ((e as HttpError).status !== 401) $('signin-error').textContent = (e as Error).message;
    route(false);
    return;
  }
  session.signedIn = true;
  try {
    await loadList();
  } catch {
    /* shown in the list */
  }
  signedIn(who);
}

function signOut(msg: string): void {
  if (session.signedIn) fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' }).catch(() => {});
  session.signedIn = false;
  session.who = null;
  closeDetail();
  closeHub();
  feed?.close();
  feed = null;
  feedState = 'offline';
  setBadge($('feed-badge'), 'offline');
  resetList();
  $('who').textContent = '';
  $('signout').hidden = true;
  $('nav').hidden = true;
  $('signin-error').textContent = msg || '';
  show('signin');
  setTitle('Herald');
  $('signin-title').focus();
}

setUnauthorizedHandler((e) => {
  if (session.signedIn) signOut('Your session ended (' + e.message + '). Sign in again.');
});

// ---------- the notification stream ----------
// clients/js's watchNotifications on /notify/events, authenticated by the
// cookie (no token given: no ticket, nothing in the URL).
function connectFeed(): void {
  feed?.close();
  if (!session.signedIn) return;
  feed = watchNotifications(
    {},
    {
      onJob: (payload) => {
        const before = known.get(Number(payload.audit_id ?? payload.job_id));
        const it = upsert(payload);
        if (!it || !TERMINAL(it.status) || (before && TERMINAL(before.status))) return;
        // The detail view announces its own job (it knows more, e.g. the title).
        if (watchedId() === it.id || alreadyTold(it.id)) return;
        // An admin's stream carries everyone's jobs: announce only the admin's own.
        if (isAdmin() && it.owner !== session.who?.sub) return;
        jobFinished({
          id: it.id,
          kind: kindOf(it),
          status: it.status,
          name: it.type === 'audit' ? shortUrl(it.url) : nameOf(it),
          score: typeof it.geo_score === 'number' ? it.geo_score : null,
          reason: String(it.error_message || it.error || ''),
        });
      },
      onNotice: (n) => {
        const d = n.data as { message?: unknown } | null;
        toast({ title: 'Notice: ' + n.type, text: d && typeof d.message === 'string' ? d.message : '', kind: 'info' });
      },
      onState: (s) => {
        feedState = s;
        setBadge($('feed-badge'), s === 'closed' ? 'offline' : s);
        // A stream that keeps failing may mean the session ended: ask once in a while.
        if (s === 'reconnecting' && Date.now() - lastSessionCheck > 10_000) {
          lastSessionCheck = Date.now();
          api('/api/v1/session').catch(() => {});
        }
      },
    },
  );
}

// Without the stream (blocked by a proxy, or down), the list polls.
setInterval(() => {
  if (session.signedIn && feedState !== 'live' && !$('view-home').hidden) loadList(true).catch(() => {});
}, 10_000);

// ---------- routing ----------
function show(view: 'signin' | 'home' | 'detail' | 'hub'): void {
  for (const v of ['signin', 'home', 'detail', 'hub']) $('view-' + v).hidden = v !== view;
  for (const a of $('nav').querySelectorAll<HTMLElement>('a[data-nav]')) {
    if (a.dataset.nav === view || (view === 'detail' && a.dataset.nav === 'home')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function route(focus: boolean): void {
  if (!session.signedIn) {
    closeDetail();
    closeHub();
    show('signin');
    return;
  }
  const m = /^#\/(audits|jobs)\/(\d+)/.exec(location.hash);
  if (m) {
    closeHub();
    show('detail');
    openDetail(m[1] as 'audits' | 'jobs', Number(m[2]));
    if (focus) $('detail-title').focus();
  } else if (/^#\/hub\b/.test(location.hash)) {
    closeDetail();
    show('hub');
    if (!isAdmin()) {
      closeHub();
      $('view-hub').replaceChildren();
      const p = document.createElement('p');
      p.className = 'card';
      p.textContent = 'The hub view is for admins.';
      $('view-hub').append(p);
      setTitle('Hub · Herald');
      return;
    }
    openHub();
    setTitle('Hub · Herald');
    if (focus) $('hub-title').focus();
  } else {
    closeDetail();
    closeHub();
    show('home');
    setTitle('Herald');
    if (focus) $('list-title').focus();
  }
}

window.addEventListener('hashchange', () => {
  if (/^#token=/.test(location.hash)) {
    takeHashToken();
    return;
  }
  route(true);
});

function takeHashToken(): void {
  const t = new URLSearchParams(location.hash.slice(1)).get('token');
  history.replaceState(null, '', location.pathname + location.search);
  if (t) void signIn(t.trim());
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void signIn(($('token') as HTMLInputElement).value.trim());
});
$('signout').addEventListener('click', () => {
  signOut('');
  history.replaceState(null, '', location.pathname + location.search);
});
$('start-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('start-error');
  const btn = $('start-btn') as HTMLButtonElement;
  const input = $('audit-url') as HTMLInputElement;
  err.textContent = '';
  let url = input.value.trim();
  if (!url) {
    err.textContent = 'Enter the address of a website.';
    input.focus();
    return;
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = 'https://' + url;
  const body: Record<string, unknown> = { url };
  const mp = parseInt(($('max-pages') as HTMLInputElement).value, 10);
  if (!isNaN(mp)) body.max_pages = mp;
  btn.disabled = true;
  try {
    const job = await post('/api/v1/audits', body);
    upsert(job);
    input.value = '';
    location.hash = '#/audits/' + job.id;
  } catch (x) {
    err.textContent = (x as Error).message;
  } finally {
    btn.disabled = false;
  }
});
initList();

// ---------- start ----------
// A token from an older version's storage is exchanged once, then forgotten.
const legacyToken = localStorage.getItem(LEGACY_TOKEN_KEY) || '';
localStorage.removeItem(LEGACY_TOKEN_KEY);
if (/(^#|&)token=/.test(location.hash)) takeHashToken();
else if (legacyToken) void signIn(legacyToken);
else void resumeSession();
