// The dashboard as a person uses it, in Debian's Chromium: sign in through
// the link `make run` prints, start an audit of the fixture site, watch it,
// read the report; with event streams blocked (polling); across a server
// restart (resume without duplicates). Each test saves a screenshot to
// tests/e2e/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, browser, fixtureSite, screenshot, streamBlockingProxy, token } from './harness.mjs';

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

async function signIn(page, base) {
  await page.goto(`${base}/#token=${token('e2e')}`);
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

test('sign in, start an audit, watch the bar reach 100% and read the report', async () => {
  const herald = await new Herald().start();
  const page = await chrome.newPage({ viewport: { width: 1366, height: 900 } });
  try {
    await signIn(page, herald.url(''));
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
    await screenshot(page, 'dashboard-during-audit');

    await page.getByTestId('report').waitFor({ timeout: 60000 });
    assert.equal(await progressValue(page), 100);
    await page.getByTestId('score').waitFor();
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
    await screenshot(page, 'dashboard-report');

    const ids = await logIds(page);
    assert.ok(ids.length > 3, 'the log shows the steps');
    assert.equal(new Set(ids).size, ids.length, `duplicate log lines: ${ids.join(',')}`);

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

test('with event streams blocked the badge says polling and the audit still completes', async () => {
  const herald = await new Herald().start();
  const proxy = await streamBlockingProxy(herald);
  const page = await chrome.newPage({ viewport: { width: 390, height: 844 } });
  try {
    await signIn(page, proxy.url(''));
    await startAudit(page);
    await page.waitForFunction(
      () => document.querySelector('[data-testid="connection-badge"]')?.dataset.state === 'polling',
      null,
      { timeout: 30000 },
    );
    await page.getByTestId('report').waitFor({ timeout: 90000 });
    assert.equal(await progressValue(page), 100);
    await screenshot(page, 'dashboard-polling-phone');
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
    await page.getByTestId('report').waitFor({ timeout: 90000 });
    const ids = await logIds(page);
    assert.equal(new Set(ids).size, ids.length, `duplicate log lines: ${ids.join(',')}`);
    assert.deepEqual(ids.map(Number), [...ids.map(Number)].sort((a, b) => a - b), 'in order');
    await screenshot(page, 'dashboard-after-restart');
  } finally {
    await page.close();
    await herald.dispose();
  }
});
