// clients/js against the real server in Chromium: given a token, it opens
// every stream with a single-use ticket (POST /api/v1/sse/tickets, then
// ?ticket=), so the token never appears in a URL, and after the stream is
// cut (Herald restarts) it reconnects with a new ticket and
// ?last_event_id=, without gaps or duplicates, to `completed`. A generic job
// whose progress the test posts itself, so the cut is always mid-job.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Herald, browser, proxy, token } from './harness.mjs';

const client = fileURLToPath(new URL('./client/', import.meta.url));
let chrome, out;

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'herald-client-'));
  await build({
    entryPoints: [join(client, 'watch.ts')],
    bundle: true,
    format: 'iife',
    outfile: join(out, 'watch.js'),
    logLevel: 'error',
  });
  chrome = await browser();
});

after(async () => {
  await chrome?.close();
  rmSync(out, { recursive: true, force: true });
});

async function call(herald, method, path, who, body) {
  const res = await fetch(herald.url(path), {
    method,
    headers: { authorization: `Bearer ${who}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

const shown = (page) => page.locator('#ids li').allTextContents().then((t) => t.map(Number));

test('clients/js follows a job to completed with tickets, across a restart, never a token in a URL', async () => {
  const herald = await new Herald().start();
  const front = await proxy(herald, {
    files: { '/client/watch.html': join(client, 'watch.html'), '/client/watch.js': join(out, 'watch.js') },
  });
  const page = await chrome.newPage();
  try {
    const secret = token('e2e');
    const worker = token('worker-1', 'worker');
    const job = await call(herald, 'POST', '/api/v1/jobs', secret, { type: 'translation', title: 'e2e' });
    const progress = (body) => call(herald, 'POST', `/api/v1/jobs/${job.id}/progress`, worker, body);
    await page.goto(front.url(`/client/watch.html?job=${job.id}&token=${secret}`));
    await progress({ status: 'running', progress: 10 });
    await progress({ progress: 20 });
    await page.waitForFunction(() => document.getElementById('bar').value === 20, null, { timeout: 15000 });

    // The cut: Herald stops; updates arrive while the client is away; it
    // comes back on the same port and database.
    await herald.stop('SIGTERM');
    await herald.start();
    await progress({ progress: 30 });
    await progress({ progress: 40 });
    await page.waitForFunction(() => document.getElementById('bar').value === 40, null, { timeout: 30000 });
    await progress({ status: 'completed', data: { words: 12 } });
    await page.waitForFunction(() => document.getElementById('status').textContent === 'completed', null, {
      timeout: 15000,
    });
    await page.waitForFunction(() => document.getElementById('state').textContent === 'closed', null, { timeout: 5000 });
    const ids = await shown(page);
    assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b), `in order, once each: ${ids}`);
    assert.equal(ids.at(-1) - ids[0] + 1, ids.length, `no gap: ${ids}`);

    const api = front.requests.filter((r) => r.includes('/api/') || r.includes('/notify/'));
    const streams = api.filter((r) => r.startsWith(`GET /api/v1/sse/jobs/${job.id}/progress`));
    const tickets = api.filter((r) => r === 'POST /api/v1/sse/tickets');
    assert.ok(streams.length >= 2, `reconnected: ${streams.join(' | ')}`);
    assert.ok(streams.every((r) => /[?&]ticket=[A-Za-z0-9_-]{43}/.test(r)), streams.join(' | '));
    assert.ok(streams.slice(1).every((r) => /[?&]last_event_id=\d+/.test(r)), streams.join(' | '));
    assert.ok(tickets.length >= streams.length, `${tickets.length} tickets for ${streams.length} streams`);
    assert.ok(!api.some((r) => r.includes('token=') || r.includes(secret)), api.join(' | '));
  } finally {
    await page.close();
    front.close();
    await herald.dispose();
  }
});
