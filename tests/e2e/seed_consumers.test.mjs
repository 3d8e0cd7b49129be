// The seed's own consumer code, unchanged but for a `?token=` parameter,
// against Herald in Chromium: the plain EventSource snippet and the React
// hook of seed 000_16a6fbdf987519b6.txt (bundled with esbuild) both reach
// `completed` for an audit of the fixture site; seed 004's onmessage
// consumer of /notify/events (004_ba89f4149790dc4f.txt, unchanged, with the
// session cookie) receives every change and notice. The pages are served
// same-origin with Herald, as the seed's relative URLs expect.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Herald, browser, createAudit, fixtureSite, proxy, screenshot, token } from './harness.mjs';

const seed = fileURLToPath(new URL('./seed/', import.meta.url));
let site, chrome, herald, front, out;

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'herald-seed-'));
  await build({
    entryPoints: [join(seed, 'hook.tsx')],
    bundle: true,
    format: 'iife',
    jsx: 'automatic',
    outfile: join(out, 'hook.js'),
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  site = await fixtureSite();
  chrome = await browser();
  herald = await new Herald().start();
  front = await proxy(herald, {
    files: {
      '/seed/plain.html': join(seed, 'plain.html'),
      '/seed/plain.js': join(seed, 'plain.js'),
      '/seed/hook.html': join(seed, 'hook.html'),
      '/seed/hook.js': join(out, 'hook.js'),
      '/seed/notify.html': join(seed, 'notify.html'),
      '/seed/notify.js': join(seed, 'notify.js'),
    },
  });
});

after(async () => {
  await chrome?.close();
  front?.close();
  site?.close();
  await herald?.dispose();
  rmSync(out, { recursive: true, force: true });
});

test("the seed's plain EventSource snippet reaches completed", async () => {
  const id = await createAudit(herald, site.url);
  const page = await chrome.newPage();
  try {
    await page.goto(front.url(`/seed/plain.html?audit=${id}&token=${token('e2e')}`));
    await page.waitForFunction(() => document.getElementById('status').textContent === 'completed', null, {
      timeout: 60000,
    });
    assert.equal(await page.locator('#bar').evaluate((b) => b.value), 100);
    await screenshot(page, 'seed-plain-snippet');
  } finally {
    await page.close();
  }
});

test("the seed's React hook reaches completed", async () => {
  const id = await createAudit(herald, site.url);
  const page = await chrome.newPage();
  try {
    await page.goto(front.url(`/seed/hook.html?audit=${id}&token=${token('e2e')}`));
    await page.getByText('Status: completed').waitFor({ timeout: 60000 });
    await page.getByText('Progress: 100%').waitFor();
    await screenshot(page, 'seed-react-hook');
  } finally {
    await page.close();
  }
});

test("seed 004's onmessage consumer of /notify/events receives every change and notice", async () => {
  const page = await chrome.newPage();
  // The seed's page authenticates with the auth_token cookie (it sets no
  // header and no query): the session a signed-in page would have.
  await page.context().addCookies([{ name: 'auth_token', value: token('e2e'), url: front.url('/') }]);
  const received = [];
  page.on('console', async (msg) => {
    if (!msg.text().startsWith('Received:')) return;
    const args = msg.args();
    if (args.length > 1) received.push(await args[1].jsonValue());
  });
  try {
    await page.goto(front.url('/seed/notify.html'));
    await new Promise((r) => setTimeout(r, 500)); // let it connect
    const id = await createAudit(herald, site.url);
    const worker = token('w', 'worker');
    const res = await fetch(herald.url('/api/v1/notifications'), {
      method: 'POST',
      headers: { authorization: `Bearer ${worker}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'e2e', type: 'i18n_debug', data: { key: 'greeting' } }),
    });
    assert.equal(res.status, 202);
    const deadline = Date.now() + 60000;
    const done = () =>
      received.some((d) => d.event === 'notice' && d.type === 'i18n_debug') &&
      received.some((d) => d.event === 'audit' && d.audit_id === id && d.status === 'completed');
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(done(), `received: ${JSON.stringify(received).slice(0, 2000)}`);
    assert.ok(received.some((d) => d.event === 'audit' && d.status === 'pending'), 'the creation, too');
    const notice = received.find((d) => d.event === 'notice');
    assert.deepEqual(notice.data, { key: 'greeting' });
  } finally {
    await page.close();
  }
});
