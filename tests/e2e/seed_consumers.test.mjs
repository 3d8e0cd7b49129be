// The seed's own consumer code, unchanged but for what points it at Herald
// (each file in seed/ says what), against Herald in Chromium: the plain
// EventSource snippet and the React hook of seed 000_16a6fbdf987519b6.txt
// (bundled with esbuild) both reach `completed` for an audit of the fixture
// site; seed 004's onmessage consumer of /notify/events
// (004_ba89f4149790dc4f.txt, unchanged, with the session cookie) receives
// every change and notice; seed 002's useSSEProgress hook and
// ProcessingProgress component (002_4bfaabb4dfc63301.txt) show a job,
// started with its "Start Processing" button, to completed; seed 003's
// useEffect consumer of named events (003_f9e685fc13f19a8e.txt) renders
// every `progress` notice and closes at `completed`. The pages are served
// same-origin with Herald, as the seeds' relative URLs expect. And seed
// 000's curl line, run by /bin/sh, streams an audit from its event 1 to
// `completed` and exits by itself.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  // Seeds 002 and 003, the same way (002's "@/..." imports resolve through
  // seed/002/tsconfig.json).
  for (const [entry, bundle] of [
    ['002/page.tsx', '002.js'],
    ['003/scraping-progress.tsx', '003.js'],
  ]) {
    await build({
      entryPoints: [join(seed, entry)],
      bundle: true,
      format: 'iife',
      jsx: 'automatic',
      outfile: join(out, bundle),
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'error',
    });
  }
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
      '/seed/002/page.html': join(seed, '002', 'page.html'),
      '/seed/002/page.js': join(out, '002.js'),
      '/seed/003/page.html': join(seed, '003', 'page.html'),
      '/seed/003/page.js': join(out, '003.js'),
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, check, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
    await sleep(50);
  }
}

async function call(target, method, path, who, body) {
  const res = await fetch(target.url(path), {
    method,
    headers: { authorization: `Bearer ${who}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

test("seed 002's useSSEProgress hook and ProcessingProgress component show a job to completed", async () => {
  const user = 'seed-002';
  const job = await call(herald, 'POST', '/api/v1/jobs', token(user), { type: 'clustering', title: 'seed 002' });
  const worker = token('worker-002', 'worker');
  const progress = (body) => call(herald, 'POST', `/api/v1/jobs/${job.id}/progress`, worker, body);
  const page = await chrome.newPage();
  // What the user sees: the bar's width and the "step: message" line.
  const shown = () =>
    page.evaluate(() => ({
      width: document.querySelector('.bg-blue-500')?.style.width ?? null,
      text: document.querySelector('p.text-sm')?.textContent ?? null,
    }));
  const showing = async (width, text) => {
    await until(`the component to show ${width} "${text}"`, async () => {
      const now = await shown();
      return now.width === width && now.text === text;
    });
  };
  try {
    await page.goto(front.url(`/seed/002/page.html?job=${job.id}&token=${token(user)}`));
    await page.getByRole('button', { name: 'Start Processing' }).click();
    await page.getByRole('button', { name: 'Processing...' }).waitFor({ timeout: 10000 });
    assert.ok(await page.getByRole('button', { name: 'Processing...' }).isDisabled());
    await showing('0%', ': '); // the current state: pending, no step, no message yet

    await progress({ status: 'running', progress: 10, step: 'Fetching data', message: 'Fetching 3 sources' });
    await showing('10%', 'Fetching data: Fetching 3 sources');
    await progress({ progress: 50, step: 'Processing', message: 'Processing 3 items' });
    await showing('50%', 'Processing: Processing 3 items');
    // The seed's completed update: a message, no step, the result in data.
    await progress({ status: 'completed', progress: 100, message: 'Processing complete', data: { clusters: 3 } });
    await showing('100%', ': Processing complete');
    // The hook closed its EventSource on `completed` and said so: the button
    // is back, and no "Connection lost" follows (no error after the end).
    await page.getByRole('button', { name: 'Start Processing' }).waitFor({ timeout: 5000 });
    assert.ok(await page.getByRole('button', { name: 'Start Processing' }).isEnabled());
    await sleep(1500);
    assert.deepEqual(await shown(), { width: '100%', text: ': Processing complete' });
    await screenshot(page, 'seed-002-progress-component');
  } finally {
    await page.close();
  }
});

test("seed 003's useEffect consumer of named events renders every progress notice and closes at completed", async () => {
  const user = 'seed-003';
  const worker = token('worker-003', 'worker');
  const notify = (type, data) => call(herald, 'POST', '/api/v1/notifications', worker, { user, type, data });
  const lines = (what) => herald.log.split('\n').filter((l) => l.includes(`SSE ${what} for notifications of ${user}`)).length;
  const rendered = () => page.locator('#events li').allTextContents().then((t) => t.map((x) => JSON.parse(x)));
  const page = await chrome.newPage();
  try {
    const opened = lines('connection established');
    await page.goto(front.url(`/seed/003/page.html?token=${token(user)}`));
    await page.waitForFunction(() => document.body.dataset.session, null, { timeout: 10000 });
    assert.equal(await page.evaluate(() => document.body.dataset.session), '200', 'signed in (POST /api/v1/session)');
    await until('the stream open', () => lines('connection established') > opened);

    const sent = [
      { step: 'Login', done: 0, total: 3 },
      { step: 'Scraping', done: 1, total: 3, name: 'Zoë Łukasiewicz' },
      { step: 'Analyzing', done: 3, total: 3 },
    ];
    for (const data of sent) await notify('progress', data);
    await until('three progress events rendered', async () => (await rendered()).length === sent.length);

    const closed = lines('client disconnected');
    await notify('completed', { profiles: 3 });
    // The snippet's "completed" listener closes the EventSource: Herald sees
    // the client go.
    await until('the client to close the stream after completed', () => lines('client disconnected') > closed);
    await notify('progress', { step: 'late', done: 4, total: 3 });
    await notify('progress', { step: 'later', done: 5, total: 3 });
    await sleep(1500);

    const got = await rendered();
    assert.deepEqual(
      got.map((e) => e.data),
      sent,
      `every progress event, in order, and nothing after completed: ${JSON.stringify(got)}`,
    );
    assert.ok(got.every((e) => e.type === 'progress' && typeof e.created_at === 'string'), JSON.stringify(got));
    await screenshot(page, 'seed-003-named-events');
  } finally {
    await page.close();
  }
});

// A site whose every answer waits until release(): an audit of it keeps a
// worker busy for as long as the test needs.
async function gatedSite() {
  let release;
  const released = new Promise((ok) => (release = ok));
  const site = { hits: 0, release };
  const server = createServer(async (req, res) => {
    site.hits++;
    await released;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><html lang="en"><head><title>Gated</title></head><body><p>Gated.</p></body></html>');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  site.url = `http://127.0.0.1:${server.address().port}/`;
  site.close = () => {
    release();
    server.closeAllConnections();
    server.close();
  };
  return site;
}

test("seed 000's curl line streams an audit from event 1 to completed and exits by itself", { timeout: 120000 }, async () => {
  // One audit worker, kept busy by an audit of a site that does not answer
  // yet: the audit curl watches stays pending (event 1) until curl is
  // connected, then runs on the fixture site to `completed`.
  const gate = await gatedSite();
  const own = await new Herald({ env: { HERALD_WORKERS: '1' } }).start();
  let curl;
  try {
    const user = 'seed-curl';
    await createAudit(own, gate.url, user);
    await until('the only worker busy with the gated audit', () => gate.hits > 0);
    const id = await createAudit(own, site.url, user);

    // seed/curl.sh: the seed's two lines; only the port and the audit id
    // are substituted.
    const seedLines = readFileSync(join(seed, 'curl.sh'), 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    const line = seedLines.replace('localhost:8000/', `localhost:${own.port}/`).replace('/audits/123/', `/audits/${id}/`);
    assert.equal(line.split('\n')[0], 'curl -N -H "Authorization: Bearer $TOKEN " \\');
    assert.equal(line.split('\n')[1], `http://localhost:${own.port}/api/v1/sse/audits/${id}/progress`);

    curl = spawn('/bin/sh', ['-c', line], {
      env: { PATH: process.env.PATH, TOKEN: token(user) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    curl.stdout.on('data', (d) => (out += d));
    curl.stderr.on('data', (d) => (err += d));
    const exited = new Promise((ok) => curl.once('exit', (code, signal) => ok({ code, signal })));
    await until('curl to print event 1', () => /^id: 1$/m.test(out) || curl.exitCode !== null, 15000);
    gate.release();

    let timer;
    const result = await Promise.race([
      exited,
      new Promise((ok) => (timer = setTimeout(() => ok({ timeout: true }), 90000))),
    ]);
    clearTimeout(timer);
    assert.ok(!result.timeout, `curl did not exit by itself within 90 s; it printed:\n${out}`);
    assert.equal(result.code, 0, `curl exit ${JSON.stringify(result)}: ${err}\n${out}`);

    assert.match(out, /^retry: 1000$/m);
    assert.match(out, /^id: 1$/m);
    assert.match(out, /^event: message$/m);
    const events = out
      .split('\n\n')
      .filter((block) => /^data: /m.test(block))
      .map((block) => ({
        id: Number(/^id: (\d+)$/m.exec(block)?.[1]),
        event: /^event: (.*)$/m.exec(block)?.[1],
        data: JSON.parse(/^data: (.*)$/m.exec(block)[1]),
      }));
    assert.equal(events[0].id, 1, out);
    assert.equal(events[0].data.status, 'pending', out);
    assert.ok(events.every((e) => e.event === 'message' && e.data.audit_id === id), out);
    assert.ok(events.every((e, i) => i === 0 || e.id > events[i - 1].id), `ids increase: ${out}`);
    const final = events.at(-1);
    assert.equal(final.data.status, 'completed', `the last event is the completed one: ${out}`);
    assert.equal(final.data.progress, 100);
    assert.equal(events.filter((e) => e.data.status === 'completed').length, 1, out);
  } finally {
    if (curl && curl.exitCode === null) curl.kill('SIGKILL');
    gate.close();
    await own.dispose();
  }
});
