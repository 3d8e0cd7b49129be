// The seed's own consumer code, unchanged but for a `?token=` parameter,
// against Herald in Chromium: the plain EventSource snippet and the React
// hook of seed 000_16a6fbdf987519b6.txt (bundled with esbuild) both reach
// `completed` for an audit of the fixture site. The pages are served
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
