// The dashboard as a person uses it, in Debian's Chromium: sign in through
// the link `make run` prints, start an audit of the fixture site, watch it,
// read the report (findings grouped by check, severity filters, exports,
// run it again); with event streams blocked (polling); across a server
// restart (resume without duplicates); a generic job (elapsed time and an
// estimate, percent in the list, cancel); the list's search and pages; the
// admins' hub view (live from /metrics). Each test saves a screenshot to
// tests/e2e/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Herald, artifacts, browser, fixtureSite, screenshot, streamBlockingProxy, token } from './harness.mjs';

let site;
let chrome;

before(async () => {
  site = await fixtureSite();
  chrome = await browser();
});

after(async () => {
  await chrome?.close();
  site?.close();
});

async function signIn(page, base, sub = 'e2e', role = 'user') {
  await page.goto(`${base}/#token=${token(sub, role)}`);
  await page.getByTestId('start-audit').waitFor({ timeout: 10000 });
  assert.ok(!page.url().includes('token='), 'the token is removed from the address bar');
  // The token now lives only in an HttpOnly, SameSite=Strict cookie: no
  // script on the page can read it.
  const readable = await page.evaluate(() => document.cookie + JSON.stringify({ ...localStorage, ...sessionStorage }));
  assert.ok(!readable.includes('auth_token') && !readable.includes('eyJ'), `script-readable: ${readable}`);
  const [cookie] = (await page.context().cookies()).filter((c) => c.name === 'auth_token');
  assert.ok(cookie, 'the session cookie is set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
}

// Console errors, page errors and failed requests (a missing favicon, a CSP
// refusal) of one page, from now on.
function problems(page) {
  const seen = [];
  page.on('console', (m) => m.type() === 'error' && seen.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
  // (Closing an event stream aborts its request: that is no failure.)
  page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && seen.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('request', (r) => new URL(r.url()).pathname === '/favicon.ico' && seen.push('requested /favicon.ico'));
  return seen;
}

async function startAudit(page) {
  await page.getByTestId('audit-url').fill(site.url);
  await page.getByTestId('start-audit').click();
  // The new audit opens (or is one click away in the list).
  await page.getByTestId('progress').waitFor({ timeout: 10000 });
}

async function progressValue(page) {
  return Number(await page.getByTestId('progress').getAttribute('aria-valuenow'));
}

// The event ids behind the log lines: each event is shown once, whatever
// reconnects happened (a re-run after a worker restart has new ids).
async function logIds(page) {
  return page.getByTestId('log').locator('li[data-seq]').evaluateAll((lis) => lis.map((li) => li.dataset.seq));
}

// Herald's API as a program uses it (creating jobs, reporting progress).
function client(herald) {
  const call = async (method, path, body, who = token('e2e')) => {
    const res = await fetch(herald.url(path), {
      method,
      headers: { authorization: `Bearer ${who}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const worker = token('worker-1', 'worker');
  return {
    job: (title, type = 'translation') => call('POST', '/api/v1/jobs', { type, title }),
    progress: (id, update) => call('POST', `/api/v1/jobs/${id}/progress`, update, worker),
    cancel: (id) => call('POST', `/api/v1/jobs/${id}/cancel`),
    get: (path) => call('GET', path),
  };
}

test('sign in, start an audit, watch the bar reach 100% and read the report', async () => {
  const herald = await new Herald().start();
  const page = await chrome.newPage({ viewport: { width: 1366, height: 900 } });
  const seen = problems(page);
  try {
    await signIn(page, herald.url(''));
    // The favicon is inline (no /favicon.ico request); users see no hub link.
    assert.match(await page.locator('link[rel=icon]').getAttribute('href'), /^data:image\/svg\+xml,/);
    assert.equal(await page.getByTestId('nav-hub').isVisible(), false);
    await startAudit(page);
    // Mid-audit: some progress, a step, a live badge.
    await page.waitForFunction(
      () => {
        const bar = document.querySelector('[data-testid="progress"]');
        const v = Number(bar?.getAttribute('aria-valuenow'));
        return v > 0 && v < 100;
      },
      null,
      { timeout: 20000 },
    );
    assert.equal(await page.getByTestId('connection-badge').getAttribute('data-state'), 'live');
    assert.match(await page.getByTestId('elapsed').textContent(), /^Elapsed \d/);
    await screenshot(page, 'dashboard-during-audit');

    await page.getByTestId('report').waitFor({ timeout: 60000 });
    assert.equal(await progressValue(page), 100);
    await page.getByTestId('score').waitFor();
    // The finish is announced: a toast and the tab's title.
    const toast = page.getByTestId('toast').filter({ hasText: 'completed' });
    await toast.waitFor({ timeout: 5000 });
    assert.match(await page.title(), /✓ Audit #\d+ completed/);
    const visible = page.locator('[data-testid="finding"]:visible');
    const all = await visible.count();
    assert.ok(all > 0, 'the report lists findings');
    // Severity toggles: switch medium and low off, only critical and high stay.
    await page.getByTestId('filter-medium').click();
    await page.getByTestId('filter-low').click();
    const severe = await visible.evaluateAll((els) => els.map((e) => e.dataset.severity));
    assert.ok(severe.length > 0 && severe.length < all, `${severe.length} of ${all} after filtering`);
    assert.ok(severe.every((s) => s === 'critical' || s === 'high'), severe.join(','));
    assert.equal(await page.getByTestId('filter-low').getAttribute('aria-pressed'), 'false');
    await toast.locator('button').click(); // dismissed, out of the screenshot
    await screenshot(page, 'dashboard-report');

    const ids = await logIds(page);
    assert.ok(ids.length > 3, 'the log shows the steps');
    assert.equal(new Set(ids).size, ids.length, `duplicate log lines: ${ids.join(',')}`);
    assert.deepEqual(seen, [], 'no console errors, page errors or failed requests');

    // A reload keeps the session (the cookie), and signing out ends it.
    await page.reload();
    await page.getByTestId('report').waitFor({ timeout: 10000 });
    await page.getByTestId('sign-out').click();
    await page.getByTestId('token-input').waitFor({ timeout: 10000 });
    let status = 0;
    for (let i = 0; i < 50 && status !== 401; i++) {
      status = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
      if (status !== 401) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 401, 'signed out: the cookie is gone');
    await page.reload();
    await page.getByTestId('token-input').waitFor({ timeout: 10000 });
  } finally {
    await page.close();
    await herald.dispose();
  }
});

test('the report: findings grouped by check, clear filter state, exports, run it again', async () => {
  const herald = await new Herald().start();
  const api = client(herald);
  const page = await chrome.newPage({ viewport: { width: 1366, height: 900 } });
  const seen = problems(page);
  try {
    await signIn(page, herald.url(''));
    await startAudit(page);
    await page.getByTestId('report').waitFor({ timeout: 60000 });
    const id = Number(/#\/audits\/(\d+)/.exec(page.url())[1]);
    const { report } = await api.get(`/api/v1/audits/${id}`);

    // One entry per check and severity, with its count and its pages.
    const groups = await page.getByTestId('finding').evaluateAll((els) =>
      els.map((e) => ({
        key: e.dataset.severity + ' ' + e.dataset.check,
        count: Number(e.dataset.count),
        pages: Number(e.dataset.pages),
        listed: e.querySelectorAll('[data-testid="finding-pages"] li').length,
      })),
    );
    const findings = Object.values(report.findings).flat();
    assert.equal(new Set(groups.map((g) => g.key)).size, groups.length, 'each check once');
    assert.equal(groups.reduce((n, g) => n + g.count, 0), findings.length, 'the counts add up to every finding');
    const wide = groups.find((g) => g.count > 1 && g.pages > 1);
    assert.ok(wide, `a check found on several pages: ${JSON.stringify(groups)}`);
    assert.ok(wide.listed >= wide.pages, `its pages are listed: ${JSON.stringify(wide)}`);
    assert.ok(groups.length < findings.length, `${groups.length} groups for ${findings.length} findings`);
    // The page list is collapsed until asked for.
    const pagesOf = page.locator('[data-testid="finding-pages"]').first();
    assert.equal(await pagesOf.locator('li').first().isVisible(), false);
    await pagesOf.locator('summary').click();
    assert.equal(await pagesOf.locator('li').first().isVisible(), true);

    // Filter state: every chip on and "Show all" idle; a chip turned off looks off.
    const chip = (s) => page.getByTestId(`filter-${s}`);
    for (const s of ['critical', 'high', 'medium', 'low']) assert.equal(await chip(s).getAttribute('aria-pressed'), 'true');
    assert.equal(await page.getByTestId('filter-all').isDisabled(), true);
    const look = (s) => chip(s).evaluate((b) => getComputedStyle(b).backgroundColor + ' ' + getComputedStyle(b).borderStyle);
    const on = await look('high');
    await chip('high').click();
    assert.equal(await chip('high').getAttribute('aria-pressed'), 'false');
    assert.notEqual(await look('high'), on, 'pressed and released chips look different');
    assert.equal(await page.getByTestId('filter-all').isDisabled(), false);
    assert.match(await page.getByTestId('findings-shown').textContent(), /high hidden/);
    await page.getByTestId('filter-all').click();
    assert.equal(await chip('high').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.getByTestId('filter-all').isDisabled(), true);

    // Exports: JSON that parses, Markdown that starts with a heading.
    const download = async (testid) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
      return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
    };
    const json = await download('export-json');
    assert.equal(json.name, `herald-audit-${id}.json`);
    const exported = JSON.parse(json.text);
    assert.equal(exported.id, id);
    assert.equal(exported.report.geo_score, report.geo_score);
    const md = await download('export-markdown');
    assert.equal(md.name, `herald-audit-${id}.md`);
    assert.match(md.text, /^# /);

    // Run it again: a new audit of the same URL with the same page limit.
    await page.getByTestId('rerun').click();
    await page.waitForFunction((old) => /^#\/audits\/(\d+)$/.test(location.hash) && location.hash !== '#/audits/' + old, id);
    const again = Number(/#\/audits\/(\d+)/.exec(page.url())[1]);
    assert.ok(again > id, `${again} after ${id}`);
    const second = await api.get(`/api/v1/audits/${again}`);
    assert.equal(second.url, report && (await api.get(`/api/v1/audits/${id}`)).url);
    assert.equal(second.max_pages, 20);
    await page.getByTestId('report').waitFor({ timeout: 60000 });
    assert.deepEqual(seen, [], 'no console errors, page errors or failed requests');
  } finally {
    await page.close();
    await herald.dispose();
  }
});

test('with event streams blocked the badge says polling and the audit still completes', async () => {
  const herald = await new Herald().start();
  const api = client(herald);
  const proxy = await streamBlockingProxy(herald);
  const page = await chrome.newPage({ viewport: { width: 390, height: 844 } });
  try {
    await signIn(page, proxy.url(''));
    // A job that waits for its worker: the page gives up on the stream and polls.
    const job = await api.job('Polled job');
    await page.goto(proxy.url(`/#/jobs/${job.id}`));
    await page.waitForFunction(
      () => document.querySelector('[data-testid="connection-badge"]')?.dataset.state === 'polling',
      null,
      { timeout: 30000 },
    );
    await api.progress(job.id, { status: 'running', progress: 40, message: 'Halfway there' });
    await page.waitForFunction(() => document.querySelector('[data-testid="progress"]')?.getAttribute('aria-valuenow') === '40', null, { timeout: 15000 });
    await page.waitForTimeout(500); // the bar's transition
    // What a phone behind such a proxy shows: the badge says polling.
    await page.screenshot({ path: join(artifacts, 'dashboard-polling-phone.png') });
    await api.progress(job.id, { status: 'completed', data: { words: 120 } });
    await page.getByTestId('report').filter({ hasText: '"words": 120' }).waitFor({ timeout: 15000 });

    await page.goto(proxy.url('/#/'));
    await startAudit(page);
    await page.getByTestId('report').waitFor({ timeout: 90000 });
    assert.equal(await progressValue(page), 100);
    await screenshot(page, 'dashboard-polling-phone-report');
  } finally {
    await page.close();
    proxy.close();
    await herald.dispose();
  }
});

test('a server restart mid-audit: the page resumes without duplicate log lines', async () => {
  const herald = await new Herald().start();
  const page = await chrome.newPage({ viewport: { width: 1366, height: 900 } });
  try {
    await signIn(page, herald.url(''));
    await startAudit(page);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="log"] li').length >= 3,
      null,
      { timeout: 20000 },
    );
    await herald.stop('SIGTERM');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="connection-badge"]')?.dataset.state !== 'live',
      null,
      { timeout: 10000 },
    );
    await herald.start(); // same port, same database: the audit is taken over
    await page.getByTestId('report').waitFor({ timeout: 90000 }).catch(async (e) => {
      // What the page and the server were at, for whoever reads the failure.
      const id = /#\/audits\/(\d+)/.exec(page.url())?.[1];
      const server = await fetch(herald.url(`/api/v1/audits/${id}/status`), { headers: { authorization: `Bearer ${token('e2e')}` } })
        .then((r) => r.text())
        .catch((x) => String(x));
      const badge = await page.getByTestId('connection-badge').getAttribute('data-state');
      const log = await page.getByTestId('log').innerText();
      throw new Error(`${e.message}\nbadge: ${badge}\nserver: ${server}\npage log:\n${log}\nherald log:\n${herald.log.split('\n').slice(-30).join('\n')}`);
    });
    const ids = await logIds(page);
    assert.equal(new Set(ids).size, ids.length, `duplicate log lines: ${ids.join(',')}`);
    assert.deepEqual(ids.map(Number), [...ids.map(Number)].sort((a, b) => a - b), 'in order');
    await screenshot(page, 'dashboard-after-restart');
  } finally {
    await page.close();
    await herald.dispose();
  }
});

test('a generic job: elapsed time, an estimate, percent in the list, cancel', async () => {
  const herald = await new Herald().start();
  const api = client(herald);
  const page = await chrome.newPage({ viewport: { width: 1366, height: 900 } });
  const seen = problems(page);
  try {
    await signIn(page, herald.url(''));
    const job = await api.job('Translate the handbook');
    await page.goto(herald.url(`/#/jobs/${job.id}`));
    await page.getByTestId('elapsed').filter({ hasText: /^Elapsed \d/ }).waitFor({ timeout: 10000 });
    await api.progress(job.id, { status: 'running', progress: 10, message: 'Chapter 1' });
    const eta = page.getByTestId('eta');
    await page.waitForFunction(() => document.querySelector('[data-testid="eta"]')?.textContent === 'estimating…', null, { timeout: 10000 });
    await new Promise((r) => setTimeout(r, 2000));
    await api.progress(job.id, { progress: 30, message: 'Chapter 3' });
    await page.waitForFunction(() => document.querySelector('[data-testid="eta"]')?.dataset.state === 'estimate', null, { timeout: 10000 });
    // 20 points in about 2 s: some 7 s for the other 70.
    assert.match(await eta.textContent(), /^about \d+ s left$/);
    const left = Number(/(\d+) s/.exec(await eta.textContent())[1]);
    assert.ok(left >= 2 && left <= 20, `${left} s left`);
    assert.match(await page.getByTestId('elapsed').textContent(), /^Elapsed \d+ s$/);
    await screenshot(page, 'dashboard-job-running');

    // The list shows the percent.
    await page.goto(herald.url('/#/'));
    await page.getByTestId(`job-row-${job.id}`).getByTestId('row-percent').filter({ hasText: '30%' }).waitFor({ timeout: 10000 });
    await api.progress(job.id, { progress: 45 });
    await page.getByTestId(`job-row-${job.id}`).getByTestId('row-percent').filter({ hasText: '45%' }).waitFor({ timeout: 10000 });

    // Cancel, after a confirmation on the page.
    await page.getByTestId(`job-row-${job.id}`).locator('a').click();
    await page.getByTestId('cancel').click();
    await page.getByTestId('keep-running').click();
    assert.equal(await page.getByTestId('status').textContent(), 'running');
    await page.getByTestId('cancel').click();
    await page.getByTestId('confirm-cancel').click();
    await page.getByTestId('failure').filter({ hasText: 'This job was cancelled' }).waitFor({ timeout: 10000 });
    assert.equal(await page.getByTestId('status').textContent(), 'failed');
    assert.equal((await api.get(`/api/v1/jobs/${job.id}`)).error_message, 'cancelled');
    assert.equal(await page.getByTestId('cancel').count(), 0, 'nothing left to cancel');
    assert.match(await page.getByTestId('elapsed').textContent(), /^Took \d/);
    await page.getByTestId('toast').filter({ hasText: 'was cancelled' }).waitFor({ timeout: 5000 });
    assert.deepEqual(seen, [], 'no console errors, page errors or failed requests');
  } finally {
    await page.close();
    await herald.dispose();
  }
});

test('the list: search, status filter and pages of 20, kept live', async () => {
  const herald = await new Herald().start();
  const api = client(herald);
  const page = await chrome.newPage({ viewport: { width: 1366, height: 900 } });
  try {
    const ids = [];
    for (let i = 1; i <= 25; i++) ids.push((await api.job(i % 10 === 0 ? `Needle ${i}` : `Batch item ${i}`)).id);
    await signIn(page, herald.url(''));
    const rows = page.getByTestId('job-list').locator('li[data-id]');
    const shownIds = () => rows.evaluateAll((lis) => lis.map((li) => Number(li.dataset.id)));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-list"] li[data-id]').length === 20);
    assert.deepEqual(await shownIds(), ids.slice(5).reverse(), 'the newest 20, newest first');
    assert.equal(await page.getByTestId('page-prev').isDisabled(), true);
    await page.getByTestId('page-next').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-list"] li[data-id]').length === 5);
    assert.deepEqual(await shownIds(), ids.slice(0, 5).reverse());
    assert.equal(await page.getByTestId('page-next').isDisabled(), true);
    assert.match(await page.getByTestId('page-info').textContent(), /^Items 21–25 of 25$/);
    await page.getByTestId('page-prev').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-list"] li[data-id]').length === 20);

    // A job created now appears at the top of the first page.
    const fresh = await api.job('Fresh job');
    await page.getByTestId(`job-row-${fresh.id}`).waitFor({ timeout: 10000 });
    assert.equal((await shownIds())[0], fresh.id);

    // Search, then narrow by status.
    await page.getByTestId('list-search').fill('needle');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-list"] li[data-id]').length === 2);
    assert.deepEqual(await shownIds(), [ids[19], ids[9]]);
    await api.cancel(ids[9]);
    await page.getByTestId('list-status').selectOption('failed');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-list"] li[data-id]').length === 1);
    assert.deepEqual(await shownIds(), [ids[9]]);
    await page.getByTestId('list-search').fill('nothing like this');
    await page.getByTestId('job-list').filter({ hasText: 'Nothing matches' }).waitFor();
    await page.getByTestId('list-search').fill(`#${ids[3]}`);
    await page.getByTestId('list-status').selectOption('');
    await page.waitForFunction((id) => {
      const lis = document.querySelectorAll('[data-testid="job-list"] li[data-id]');
      return lis.length === 1 && lis[0].dataset.id === String(id);
    }, ids[3]);
  } finally {
    await page.close();
    await herald.dispose();
  }
});

test('the hub view: live numbers from /metrics and a chart that moves', async () => {
  const herald = await new Herald().start();
  const api = client(herald);
  const page = await chrome.newPage({ viewport: { width: 1366, height: 900 } });
  const watcher = await chrome.newPage({ viewport: { width: 800, height: 600 } });
  const seen = problems(page);
  try {
    await signIn(page, herald.url(''), 'root', 'admin');
    const job = await api.job('Busy job');
    // Someone watching the job: a progress stream that events are delivered to.
    await signIn(watcher, herald.url(''));
    await watcher.goto(herald.url(`/#/jobs/${job.id}`));
    await watcher.getByTestId('connection-badge').and(watcher.locator('[data-state="live"]')).waitFor({ timeout: 10000 });

    await page.getByTestId('nav-hub').click();
    await page.getByTestId('hub-chart').waitFor();
    const number = async (testid) => Number(await page.getByTestId(testid).textContent());
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid="hub-streams"]')?.textContent ?? ''));
    assert.ok((await number('hub-streams')) >= 2, 'the watcher\'s progress stream and notification streams');
    assert.match(await page.getByTestId('hub-bus').textContent(), /memory/);

    // Events for a few seconds: published and delivered per second go up.
    const points = () => page.getByTestId('hub-chart').getAttribute('data-points').then(Number);
    const before = await points();
    // Bursts at three paces (about 8, 2 and 4 per second), so the chart has a shape.
    for (let p = 1; p <= 36; p++) {
      await api.progress(job.id, { status: 'running', progress: p * 2, message: `Step ${p}` });
      await new Promise((r) => setTimeout(r, p <= 12 ? 120 : p <= 24 ? 450 : 230));
    }
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="hub-published"]')?.textContent) > 0, null, { timeout: 5000 });
    assert.ok((await number('hub-delivered')) > 0, 'delivered / s');
    assert.ok((await points()) > before, 'the chart grew');
    const line = await page.locator('[data-testid="hub-chart"] polyline[data-series="published"]').getAttribute('points');
    assert.ok(line.split(' ').length >= 3, line);
    // It keeps moving.
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="hub-chart"]').dataset.points) > n, await points(), { timeout: 6000 });
    await screenshot(page, 'dashboard-hub');
    assert.deepEqual(seen, [], 'no console errors, page errors or failed requests');
  } finally {
    await watcher.close();
    await page.close();
    await herald.dispose();
  }
});
