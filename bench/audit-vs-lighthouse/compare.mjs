#!/usr/bin/env node
// Runs Lighthouse's SEO category and Herald's audit on the same local pages
// and prints where they disagree. See README.md beside this file.
//
//   node compare.mjs [--site DIR] [--strict] [--json FILE] [--help]
//
// Everything runs on 127.0.0.1: a static server for DIR (the conventions of
// tests/support/fixture_site.cc), `build/herald serve` with an in-process
// worker and a throwaway SQLite database, and one headless Chromium that
// Lighthouse drives, one page at a time. Every wait has a timeout; the
// servers and Chromium are stopped at the end, on error and on Ctrl-C.
//
// Exit status: 0 when everything ran (whatever the verdicts), 1 with --strict
// when Herald and Lighthouse disagree somewhere, 2 when something failed to
// run (Herald, the audit, Chromium, a Lighthouse run), 64 on a bad option.

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

// Lighthouse 12's SEO audits and the Herald checks that stand for them
// (docs/audit.md, "Lighthouse's SEO category, audit by audit"). Any of the
// listed checks on the page counts as "found". `site`: judged once for the
// whole site (robots.txt), whichever page it was found on.
const MAPPING = [
  { lh: 'document-title', herald: ['title.missing'] },
  { lh: 'meta-description', herald: ['meta_description.missing'] },
  { lh: 'http-status-code', herald: ['page.http_error'] },
  { lh: 'link-text', herald: ['links.text_not_descriptive'] },
  { lh: 'crawlable-anchors', herald: ['links.not_crawlable'] },
  { lh: 'is-crawlable', herald: ['page.noindex'] },
  { lh: 'robots-txt', herald: ['robots_txt.invalid'], site: true },
  { lh: 'image-alt', herald: ['images.alt_missing'] },
  { lh: 'hreflang', herald: ['hreflang.invalid'] },
  // canonical.other_site and canonical.bad_target go beyond Lighthouse on
  // purpose (docs/audit.md): Herald's additions, not its canonical verdict.
  { lh: 'canonical', herald: ['canonical.invalid'] },
];

// What is known to differ, printed under a disagreement of that kind (the
// Lighthouse rules are those of core/audits/seo/*.js in the pinned version).
const NOTES = {
  'canonical/herald': "Lighthouse's canonical audit fails only an invalid or relative URL, " +
    'conflicting canonicals, a canonical to another hreflang alternate, or one to the root ' +
    "from an inner page; it looks at neither the target's host nor its HTTP status. Herald's " +
    'other-site and bad-target (4xx/5xx, redirect, noindex) checks go further on purpose ' +
    '(docs/audit.md).',
  'is-crawlable/herald': 'Lighthouse fails is-crawlable only when every crawler it knows ' +
    '(Googlebot, bingbot, DuckDuckBot, archive.org_bot and the generic robots) is kept out; a ' +
    'noindex for one of them (<meta name="googlebot">, "X-Robots-Tag: Googlebot: noindex") only ' +
    'adds a warning, and it matches the header\'s bot name case-sensitively.',
  'is-crawlable/lighthouse': 'Lighthouse also fails a page that robots.txt disallows (for any ' +
    'crawler it knows) and names the header, meta tag or robots.txt rule in its details; Herald ' +
    'reports robots.txt blocks as robots.* findings and site.skipped_by_robots, not page.noindex.',
  'http-status-code/herald': 'Lighthouse judges the status of the document it loaded (after ' +
    'redirects); Herald the status its crawler got.',
  'image-alt/lighthouse': "Lighthouse's image-alt is axe-core's rule on the rendered DOM: " +
    'images added by script are only there.',
  'link-text/lighthouse': "Lighthouse judges the rendered DOM's links; links added by script " +
    'are not in the HTML Herald reads.',
  'crawlable-anchors/lighthouse': "Lighthouse sees listeners added by script; Herald takes an " +
    'onclick attribute for one.',
};

const USAGE = `usage: node compare.mjs [options]

Serves DIR on 127.0.0.1, audits it with Herald and with Lighthouse's SEO
category, and prints per page and audit where the two disagree.

  --site DIR            static pages to serve (default: tests/fixtures/seo)
  --herald PATH         Herald's binary (default: build/herald)
  --chrome PATH         Chromium (default: $CHROME_PATH or /usr/bin/chromium)
  --max-pages N         Herald's max_pages (default: 50)
  --page-timeout S      seconds for one Lighthouse run (default: 60)
  --audit-timeout S     seconds for Herald's audit (default: 300)
  --deadline S          seconds for the whole comparison (default: 1800)
  --include-errors      also run Lighthouse on HTML pages Herald saw answer
                        4xx/5xx (gives http-status-code something to judge)
  --verbose             Lighthouse's details for agreeing failures too
  --json FILE           also write the comparison as JSON
  --strict              exit 1 when they disagree anywhere
  --help                this text

Paths are relative to the current directory. Exit status: 0 ran (whatever
the verdicts), 1 disagreement with --strict, 2 something failed to run.`;

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = {
    site: path.join(REPO, 'tests', 'fixtures', 'seo'),
    herald: path.join(REPO, 'build', 'herald'),
    chrome: process.env.CHROME_PATH || '/usr/bin/chromium',
    maxPages: 50,
    pageTimeout: 60,
    auditTimeout: 300,
    deadline: 1800,
    includeErrors: false,
    verbose: false,
    json: '',
    strict: false,
  };
  const value = (i, name) => {
    if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
    return argv[i + 1];
  };
  const number = (text, name, min, max) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${name}: ${text} is not a number from ${min} to ${max}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    switch (a) {
      case '--site': o.site = path.resolve(value(i, a)); ++i; break;
      case '--herald': o.herald = path.resolve(value(i, a)); ++i; break;
      case '--chrome': o.chrome = path.resolve(value(i, a)); ++i; break;
      case '--max-pages': o.maxPages = number(value(i, a), a, 1, 500); ++i; break;
      case '--page-timeout': o.pageTimeout = number(value(i, a), a, 5, 600); ++i; break;
      case '--audit-timeout': o.auditTimeout = number(value(i, a), a, 5, 3600); ++i; break;
      case '--deadline': o.deadline = number(value(i, a), a, 30, 86400); ++i; break;
      case '--json': o.json = path.resolve(value(i, a)); ++i; break;
      case '--include-errors': o.includeErrors = true; break;
      case '--verbose': o.verbose = true; break;
      case '--strict': o.strict = true; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: throw new UsageError(`unknown option ${a}`);
    }
  }
  if (!fs.existsSync(o.site) || !fs.statSync(o.site).isDirectory()) {
    throw new UsageError(`--site: ${o.site} is not a directory`);
  }
  return o;
}

class UsageError extends Error {}
class RunError extends Error {}

// ------------------------------------------------------------ small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `promise`, or a RunError after `ms`; `onTimeout` runs first (to kill what hangs).
function withTimeout(promise, ms, what, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      try { onTimeout?.(); } catch { /* best effort */ }
      reject(new RunError(`${what}: no result within ${(ms / 1000).toFixed(0)} s`));
    }, ms);
  });
  promise.catch(() => {});  // a late rejection after the timeout is not unhandled
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function truncate(text, n) {
  const s = String(text ?? '').replace(/\s+/g, ' ').trim();
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function normalizeUrl(u) {
  try {
    const url = new URL(u);
    url.hash = '';
    return url.href;
  } catch {
    return u;
  }
}

function pad(s, n) { s = String(s); return s.length >= n ? s : s + ' '.repeat(n - s.length); }
function lpad(s, n) { s = String(s); return s.length >= n ? s : ' '.repeat(n - s.length) + s; }

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------- the static site (FixtureSite)

function contentType(p) {
  const ends = (ext) => p.endsWith(ext);
  if (ends('.html') || ends('.htm')) return 'text/html; charset=utf-8';
  if (ends('.txt')) return 'text/plain; charset=utf-8';
  if (ends('.xml')) return 'application/xml';
  if (ends('.css')) return 'text/css';
  if (ends('.js')) return 'application/javascript';
  if (ends('.json')) return 'application/json';
  if (ends('.png')) return 'image/png';
  if (ends('.jpg') || ends('.jpeg')) return 'image/jpeg';
  if (ends('.svg')) return 'image/svg+xml';
  if (ends('.pdf')) return 'application/pdf';
  return 'application/octet-stream';
}

// As FixtureSite's PercentDecode: %XX as a byte, '+' as a space.
function percentDecode(s) {
  const bytes = [];
  for (let i = 0; i < s.length; ++i) {
    if (s[i] === '%' && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (s[i] === '+') {
      bytes.push(0x20);
    } else {
      for (const b of Buffer.from(s[i], 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const NOT_FOUND_BODY =
  '<!doctype html><html lang="en"><head><title>Not found</title></head>' +
  '<body><h1>Not found</h1></body></html>';

// Serves `root` on 127.0.0.1:<free port>: "/" and "dir/" are index.html,
// content type by extension, 404 otherwise, FILE.headers lines added as
// response headers, "{{origin}}" replaced by this server's origin. Every
// response closes its connection, as FixtureSite's do. `served` records the
// last status and content type per path (to tell HTML pages from the rest).
async function startSite(root) {
  const served = new Map();
  const rootReal = fs.realpathSync(root);
  let origin = '';
  const server = http.createServer((req, res) => {
    const target = req.url || '';
    const q = target.indexOf('?');
    const urlPath = q < 0 ? target : target.slice(0, q);
    const send = (status, headers, body) => {
      res.statusCode = status;
      for (const [name, values] of headers) {
        try {
          res.setHeader(name, values.length === 1 ? values[0] : values);
        } catch (e) {
          console.error(`site: header "${name}" not sent: ${e.message}`);
        }
      }
      res.setHeader('Content-Length', body.length);
      res.setHeader('Connection', 'close');
      served.set(urlPath, { status, type: headers.get('Content-Type')?.[0] ?? '' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const notFound = () =>
      send(404, new Map([['Content-Type', ['text/html; charset=utf-8']]]), Buffer.from(NOT_FOUND_BODY));

    if (urlPath.includes('..') || urlPath === '' || urlPath[0] !== '/') return notFound();
    let file = percentDecode(urlPath);
    if (file.endsWith('/')) file += 'index.html';
    const full = path.join(rootReal, file);
    // FixtureSite checks ".." before decoding only; stay inside the root anyway.
    if (full !== rootReal && !full.startsWith(rootReal + path.sep)) return notFound();
    let body;
    try {
      if (!fs.statSync(full).isFile()) return notFound();
      body = fs.readFileSync(full);
    } catch {
      return notFound();
    }
    // Byte-exact replacement, also in binary files (as FixtureSite does).
    const text = body.toString('latin1');
    if (text.includes('{{origin}}')) body = Buffer.from(text.split('{{origin}}').join(origin), 'latin1');
    const headers = new Map([['Content-Type', [contentType(file)]]]);
    let extra = '';
    try { extra = fs.readFileSync(full + '.headers', 'utf8'); } catch { /* none */ }
    for (const line of extra.split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ +/, '').replace(/[\r ]+$/, '');
      const key = [...headers.keys()].find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
      headers.set(key, [...(headers.get(key) ?? []), value]);
    }
    send(200, headers, body);
  });
  server.keepAliveTimeout = 1000;
  server.headersTimeout = 5000;
  server.requestTimeout = 10000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    served,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
      setTimeout(resolve, 2000).unref();
    }),
  };
}

// The HTML files under `root`, as URLs ("index.html" as its directory).
function sitePages(root, origin) {
  const out = [];
  const walk = (dir, rel) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const childRel = rel + entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), childRel + '/');
      else if (entry.isFile() && /\.html?$/.test(entry.name)) {
        const urlPath = entry.name === 'index.html' ? rel : childRel;
        out.push(normalizeUrl(origin + '/' + urlPath.split('/').map(encodeURIComponent).join('/')));
      }
    }
  };
  walk(root, '');
  return out;
}

// ------------------------------------------------------------------- Herald

async function startHerald(opts, tmp, cleanups) {
  if (!fs.existsSync(opts.herald)) {
    throw new RunError(`${opts.herald} does not exist: build Herald first (make, or cmake --build build)`);
  }
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmp,
    JWT_SECRET: randomBytes(32).toString('hex'),
    HERALD_LISTEN: `127.0.0.1:${port}`,
    DATABASE_URL: `sqlite://${path.join(tmp, 'h.db')}`,
    AUDIT_ALLOW_PRIVATE: '1',
    HERALD_WORKERS: '1',
    HERALD_DRAIN_SECONDS: '1',
  };
  const logPath = path.join(tmp, 'herald.log');
  const log = fs.openSync(logPath, 'a');
  const child = spawn(opts.herald, ['serve'], { env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited = null;
  const exitedPromise = new Promise((resolve) => child.once('exit', (code, signal) => {
    exited = { code, signal };
    resolve();
  }));
  child.once('error', (e) => { exited = { code: -1, signal: String(e.message) }; });
  const logTail = () => {
    try { return fs.readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n'); } catch { return ''; }
  };
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([exitedPromise, sleep(5000)]);
    if (!exited) {
      child.kill('SIGKILL');
      await Promise.race([exitedPromise, sleep(2000)]);
    }
  };
  cleanups.push(stop);
  process.on('exit', () => { if (!exited) try { child.kill('SIGKILL'); } catch { /* gone */ } });

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    if (exited) {
      throw new RunError(`herald serve exited (${exited.code ?? exited.signal}) before serving:\n${logTail()}`);
    }
    try {
      const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new RunError(`herald serve did not answer /healthz in 20 s:\n${logTail()}`);
    await sleep(100);
  }

  const token = await new Promise((resolve, reject) => {
    execFile(opts.herald, ['token', '--sub', 'cmp', '--role', 'admin'], { env, timeout: 10000 },
      (err, stdout, stderr) => err ? reject(new RunError(`herald token: ${err.message} ${stderr}`)) : resolve(stdout.trim()));
  });
  return { base, token, logTail, stop };
}

async function api(herald, method, p, body) {
  const r = await fetch(herald.base + p, {
    method,
    headers: { Authorization: `Bearer ${herald.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = null; }
  if (!r.ok) throw new RunError(`${method} ${p}: HTTP ${r.status} ${truncate(text, 300)}`);
  return json;
}

// Creates the audit, polls its status until it ends; the audit and its wall time.
async function runHeraldAudit(herald, siteUrl, opts) {
  const t0 = performance.now();
  const created = await api(herald, 'POST', '/api/v1/audits', { url: siteUrl, max_pages: opts.maxPages });
  const id = created.id ?? created.audit_id;
  const deadline = Date.now() + opts.auditTimeout * 1000;
  let status;
  for (;;) {
    status = await api(herald, 'GET', `/api/v1/audits/${id}/status`);
    if (status.status === 'completed' || status.status === 'failed') break;
    if (Date.now() > deadline) {
      try { await api(herald, 'POST', `/api/v1/audits/${id}/cancel`); } catch { /* best effort */ }
      throw new RunError(`Herald's audit ${id} did not end within ${opts.auditTimeout} s (last: ${status.status} ${status.progress}%)`);
    }
    await sleep(25);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (status.status === 'failed') {
    throw new RunError(`Herald's audit ${id} failed: ${status.error_message ?? status.error ?? '?'}\n${herald.logTail()}`);
  }
  const audit = await api(herald, 'GET', `/api/v1/audits/${id}`);
  if (!audit.report) throw new RunError(`Herald's audit ${id} completed without a report`);
  return { id, audit, report: audit.report, seconds };
}

// Per page URL: check id -> findings; plus the site-wide findings by check id.
function indexFindings(report) {
  const byPage = new Map();
  const all = new Map();  // check id -> findings anywhere
  for (const severity of ['critical', 'high', 'medium', 'low']) {
    for (const f of report.findings?.[severity] ?? []) {
      const finding = { ...f, severity };
      if (!all.has(f.check_id)) all.set(f.check_id, []);
      all.get(f.check_id).push(finding);
      const pages = f.page ? [f.page] : (f.pages ?? []);
      for (const p of pages) {
        const key = normalizeUrl(p);
        if (!byPage.has(key)) byPage.set(key, new Map());
        const checks = byPage.get(key);
        if (!checks.has(f.check_id)) checks.set(f.check_id, []);
        checks.get(f.check_id).push(finding);
      }
    }
  }
  return { byPage, all };
}

// --------------------------------------------------------------- Lighthouse

async function loadLighthouse() {
  try {
    const lighthouse = (await import('lighthouse')).default;
    const chromeLauncher = await import('chrome-launcher');
    const version = JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', 'lighthouse', 'package.json'), 'utf8')).version;
    return { lighthouse, chromeLauncher, version };
  } catch (e) {
    throw new RunError(`cannot load Lighthouse (${e.message}); run "npm ci" in ${HERE} first`);
  }
}

class Chrome {
  constructor(lib, chromePath, tmp) {
    this.lib = lib;
    this.chromePath = chromePath;
    this.tmp = tmp;
    this.launcher = null;
    this.launches = 0;
  }

  async ensure() {
    if (this.launcher) return this.launcher.port;
    if (!fs.existsSync(this.chromePath)) throw new RunError(`${this.chromePath} does not exist (apt-get install chromium)`);
    const launcher = new this.lib.Launcher({
      chromePath: this.chromePath,
      chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-dev-shm-usage', '--disable-extensions'],
      userDataDir: fs.mkdtempSync(path.join(this.tmp, 'chrome-')),
      handleSIGINT: false,
      logLevel: 'silent',
      connectionPollInterval: 250,
      maxConnectionRetries: 120,  // 30 s
    });
    this.launcher = launcher;
    ++this.launches;
    const t0 = performance.now();
    try {
      await withTimeout(launcher.launch(), 45000, 'launching Chromium', () => this.kill());
    } catch (e) {
      this.kill();
      const log = (() => {
        try { return fs.readFileSync(path.join(launcher.userDataDir, 'chrome-err.log'), 'utf8').split('\n').slice(-12).join('\n'); } catch { return ''; }
      })();
      throw new RunError(`Chromium (${this.chromePath}) did not start: ${e.message}${log ? '\n' + log : ''}`);
    }
    this.launchSeconds = (performance.now() - t0) / 1000;
    return launcher.port;
  }

  kill() {
    const l = this.launcher;
    this.launcher = null;
    if (!l) return Promise.resolve();
    try {
      return Promise.resolve(l.kill()).catch(() => {});
    } catch {
      return Promise.resolve();
    }
  }

  pid() { return this.launcher?.pid ?? this.launcher?.chromeProcess?.pid; }
}

// One Lighthouse SEO run; { lhr, seconds } or { error, seconds }.
// `errorPage`: a page Herald saw answer 4xx/5xx (--include-errors); Lighthouse
// then judges it instead of stopping at ERRORED_DOCUMENT_REQUEST.
async function runLighthouse(lh, chrome, url, opts, errorPage = false) {
  const port = await chrome.ensure();
  const ms = opts.pageTimeout * 1000;
  const flags = {
    port,
    output: 'json',
    logLevel: 'error',
    onlyCategories: ['seo'],
    maxWaitForLoad: Math.min(45000, Math.round(ms * 0.75)),
    disableFullPageScreenshot: true,
    ...(errorPage ? { ignoreStatusCode: true } : {}),
  };
  const t0 = performance.now();
  try {
    // On a timeout Chromium is killed (the hung run then fails) and the next
    // page gets a new one.
    const result = await withTimeout(lh.lighthouse(url, flags), ms, `Lighthouse on ${url}`, () => chrome.kill());
    const seconds = (performance.now() - t0) / 1000;
    if (!result?.lhr) return { error: 'Lighthouse returned no result', seconds };
    if (result.lhr.runtimeError) {
      return { error: `${result.lhr.runtimeError.code}: ${result.lhr.runtimeError.message}`, seconds, lhr: result.lhr };
    }
    return { lhr: result.lhr, seconds };
  } catch (e) {
    return { error: e.message, seconds: (performance.now() - t0) / 1000 };
  }
}

// PASS, FAIL or ERROR (LH could not judge) for one audit of a result.
function lhVerdict(audit) {
  if (!audit) return { verdict: 'ERROR', why: 'audit missing from the result' };
  const mode = audit.scoreDisplayMode;
  if (mode === 'error') return { verdict: 'ERROR', why: audit.errorMessage ?? 'error' };
  if (mode === 'notApplicable' || mode === 'manual' || mode === 'informative' || audit.score === null || audit.score === undefined) {
    return { verdict: 'PASS', na: true };
  }
  return { verdict: audit.score >= 1 ? 'PASS' : 'FAIL' };
}

// Lighthouse's reasons, a line each: explanation, error, warnings, details.
function lhExplain(audit, maxItems = 6) {
  if (!audit) return ['(no such audit in the result)'];
  const out = [];
  out.push(`"${audit.title}"${audit.score === null ? '' : ` score ${audit.score}`} (${audit.scoreDisplayMode})`);
  if (audit.explanation) out.push(`explanation: ${truncate(audit.explanation, 400)}`);
  if (audit.errorMessage) out.push(`error: ${truncate(audit.errorMessage, 400)}`);
  for (const w of audit.warnings ?? []) out.push(`warning: ${truncate(w, 300)}`);
  const items = audit.details?.items ?? [];
  for (const item of items.slice(0, maxItems)) out.push(`item: ${describeItem(item)}`);
  if (items.length > maxItems) out.push(`… ${items.length - maxItems} more items`);
  if (out.length === 1 && !items.length) out.push('(no explanation or details)');
  return out;
}

function describeValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'object') return String(v);
  switch (v.type) {
    case 'node': return v.snippet || v.nodeLabel || v.selector || '';
    case 'source-location': return `${v.url}:${(v.line ?? 0) + 1}:${v.column ?? 0}`;
    case 'code': case 'url': case 'text': case 'link': return v.text && v.url ? `${v.text} <${v.url}>` : String(v.value ?? v.text ?? v.url ?? '');
    case 'subitems': return (v.items ?? []).slice(0, 3).map(describeItem).join(' | ');
    default: return JSON.stringify(v);
  }
}

function describeItem(item) {
  if (typeof item !== 'object' || item === null) return truncate(item, 300);
  const parts = [];
  for (const [k, v] of Object.entries(item)) {
    const text = describeValue(v);
    if (text !== '') parts.push(`${k}=${text}`);
  }
  return truncate(parts.join('  '), 300);
}

// ------------------------------------------------------------------- report

function heraldExplain(findings) {
  const out = [];
  for (const f of findings) {
    out.push(`${f.check_id} (${f.severity}): ${truncate(f.message, 300)}`);
    if (f.evidence) out.push(`  evidence${f.line ? ` (line ${f.line})` : ''}: ${truncate(f.evidence, 200)}`);
    if (f.pages?.length) out.push(`  merged finding for ${f.pages.length} pages`);
  }
  return out;
}

function pathOf(url, origin) {
  return url.startsWith(origin) ? url.slice(origin.length) || '/' : url;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`compare: ${e.message}\n\n${USAGE}`);
    return 64;
  }

  const cleanups = [];
  const cleanup = async () => {
    while (cleanups.length) {
      const c = cleanups.pop();
      try { await withTimeout(Promise.resolve().then(c), 10000, 'cleanup'); } catch { /* keep going */ }
    }
  };
  let stopping = false;
  const onSignal = (sig) => {
    if (stopping) return;
    stopping = true;
    console.error(`\ncompare: ${sig}, stopping`);
    cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    console.error(`compare: the whole comparison took over --deadline ${opts.deadline} s, stopping`);
    cleanup().finally(() => process.exit(2));
  }, opts.deadline * 1000);
  watchdog.unref();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-vs-lh-'));
  cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));

  let failedToRun = false;
  try {
    const lh = await loadLighthouse();

    const site = await startSite(opts.site);
    cleanups.push(site.close);
    const siteUrl = site.origin + '/';
    console.log(`Site:       ${path.relative(process.cwd(), opts.site) || '.'} on ${site.origin}`);

    const herald = await startHerald(opts, tmp, cleanups);
    console.log(`Herald:     ${path.relative(process.cwd(), opts.herald)} serve on ${herald.base} (1 worker, SQLite in ${tmp})`);
    console.log(`Lighthouse: ${lh.version}, SEO category, Chromium ${opts.chrome}`);

    // 1. Herald.
    const h = await runHeraldAudit(herald, siteUrl, opts);
    const report = h.report;
    const heraldPages = report.pages ?? [];
    const index = indexFindings(report);
    console.log(`\nHerald's audit ${h.id}: ${heraldPages.length} pages in ${h.seconds.toFixed(2)} s, geo_score ${report.geo_score}`);

    // 2. The pages Lighthouse audits.
    const pageInfo = new Map();  // url -> { herald: page entry | null, status }
    const isHtmlServed = (url) => {
      const p = new URL(url).pathname;
      const s = site.served.get(p);
      return s ? s.type.toLowerCase().startsWith('text/html') : /(\/|\.html?)$/.test(p);
    };
    for (const p of heraldPages) {
      const url = normalizeUrl(p.url);
      const sameSite = url.startsWith(site.origin + '/');
      const html = sameSite && isHtmlServed(url);
      const ok = p.status === 200 || (opts.includeErrors && p.status >= 400);
      if (html && ok && !p.error) pageInfo.set(url, { herald: p, status: p.status });
    }
    for (const url of sitePages(opts.site, site.origin)) {
      if (!pageInfo.has(url)) {
        const crawled = heraldPages.find((p) => normalizeUrl(p.url) === url) ?? null;
        if (crawled && !(crawled.status === 200 || opts.includeErrors)) continue;
        pageInfo.set(url, { herald: crawled, status: crawled?.status ?? 200 });
      }
    }

    // 3. Lighthouse, one page at a time, one Chromium.
    const chrome = new Chrome(lh.chromeLauncher, opts.chrome, tmp);
    cleanups.push(() => chrome.kill());
    process.on('exit', () => { const pid = chrome.pid(); if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
    console.log(`\nLighthouse on ${pageInfo.size} pages (one at a time, ${opts.pageTimeout} s each at most):`);
    const runs = new Map();
    for (const url of pageInfo.keys()) {
      let run;
      try {
        run = await runLighthouse(lh, chrome, url, opts, pageInfo.get(url).status >= 400);
      } catch (e) {
        if (e instanceof RunError) throw e;  // Chromium cannot start: nothing more to do
        run = { error: e.message, seconds: 0 };
      }
      runs.set(url, run);
      const s = `${run.seconds.toFixed(2)} s`;
      console.log(`  ${pad(pathOf(url, site.origin), 34)} ${lpad(s, 8)}${run.error ? `  FAILED: ${truncate(run.error, 200)}` : ''}`);
      if (run.error) failedToRun = true;
    }
    await chrome.kill();

    // 4. Compare.
    const rows = [];
    const tally = { bothFail: 0, bothPass: 0, recall: 0, precision: 0, lhError: 0, uncrawled: 0 };
    const considered = (url) => pageInfo.get(url).herald !== null;
    const record = (row) => {
      rows.push(row);
      if (!row.crawled) { ++tally.uncrawled; return; }
      if (row.lh === 'ERROR') ++tally.lhError;
      else if (row.lh === 'FAIL' && row.found) ++tally.bothFail;
      else if (row.lh === 'PASS' && !row.found) ++tally.bothPass;
      else if (row.lh === 'FAIL') ++tally.recall;
      else ++tally.precision;
    };

    console.log(`\nPer page and audit (LH = Lighthouse; "found" = Herald reports one of the mapped checks):`);
    const siteWide = MAPPING.filter((m) => m.site);
    const perPage = MAPPING.filter((m) => !m.site);
    const otherSeo = new Map();  // unmapped SEO audits: id -> verdicts
    for (const [url, info] of pageInfo) {
      const run = runs.get(url);
      const pageFindings = index.byPage.get(url) ?? new Map();
      const crawled = considered(url);
      console.log(`\n${pathOf(url, site.origin)}  (HTTP ${info.status}${crawled ? '' : ', not crawled by Herald: not counted'}; Lighthouse ${run.seconds.toFixed(2)} s${info.herald ? `, Herald fetch ${Math.round(info.herald.response_ms ?? 0)} ms` : ''})`);
      if (run.error && !run.lhr) {
        console.log(`  Lighthouse failed: ${run.error}`);
        continue;
      }
      for (const m of perPage) {
        const audit = run.lhr.audits[m.lh];
        const v = lhVerdict(audit);
        const findings = m.herald.flatMap((id) => pageFindings.get(id) ?? []);
        const found = findings.length > 0;
        const agree = v.verdict === 'ERROR' ? null : (v.verdict === 'FAIL') === found;
        const row = { url, path: pathOf(url, site.origin), audit: m.lh, checks: m.herald, lh: v.verdict, na: !!v.na, found, agree, crawled, lhAudit: audit, findings };
        record(row);
        const status = !crawled ? '(not crawled by Herald)' : agree === null ? 'LH ERROR' : agree ? 'agree'
          : v.verdict === 'FAIL' ? 'DISAGREE: Herald misses' : 'DISAGREE: Herald flags, LH passes';
        const said = found ? `found ${[...new Set(findings.map((f) => f.check_id))].join(', ')}` : 'not found';
        console.log(`  ${pad(m.lh, 18)} LH ${pad(v.verdict + (v.na ? ' (n/a)' : ''), 11)} Herald ${pad(said, 40)} ${status}`);
        if (agree === false || agree === null || (opts.verbose && v.verdict === 'FAIL')) {
          for (const line of lhExplain(audit)) console.log(`      LH: ${line}`);
          for (const line of heraldExplain(findings)) console.log(`      Herald: ${line}`);
          const note = agree === false && (!found && info.status >= 400
            ? 'Herald checks nothing but the status on a page that answered 4xx/5xx (page.http_error).'
            : NOTES[`${m.lh}/${found ? 'herald' : 'lighthouse'}`]);
          if (note) console.log(`      Note: ${note}`);
        }
      }
      const seoRefs = run.lhr.categories?.seo?.auditRefs ?? [];
      for (const ref of seoRefs) {
        if (MAPPING.some((m) => m.lh === ref.id)) continue;
        const a = run.lhr.audits[ref.id];
        if (!otherSeo.has(ref.id)) otherSeo.set(ref.id, []);
        otherSeo.get(ref.id).push(`${pathOf(url, site.origin)} ${a ? (a.scoreDisplayMode === 'manual' ? 'manual' : lhVerdict(a).verdict) : 'missing'}`);
      }
    }

    // Site-wide: robots.txt, once (the home page's run; others if it failed).
    console.log(`\nSite-wide:`);
    const withResult = [...runs.entries()].filter(([, r]) => r.lhr && !r.lhr.runtimeError);
    for (const m of siteWide) {
      const home = withResult.find(([u]) => u === normalizeUrl(siteUrl)) ?? withResult[0];
      if (!home) { console.log(`  ${m.lh}: no Lighthouse result to judge`); continue; }
      const audit = home[1].lhr.audits[m.lh];
      const v = lhVerdict(audit);
      const verdicts = new Set(withResult.map(([, r]) => lhVerdict(r.lhr.audits[m.lh]).verdict));
      const findings = m.herald.flatMap((id) => index.all.get(id) ?? []);
      const found = findings.length > 0;
      const agree = v.verdict === 'ERROR' ? null : (v.verdict === 'FAIL') === found;
      record({ url: '', path: '(site)', audit: m.lh, checks: m.herald, lh: v.verdict, na: !!v.na, found, agree, crawled: true, lhAudit: audit, findings });
      const status = agree === null ? 'LH ERROR' : agree ? 'agree' : v.verdict === 'FAIL' ? 'DISAGREE: Herald misses' : 'DISAGREE: Herald flags, LH passes';
      console.log(`  ${pad(m.lh, 18)} LH ${pad(v.verdict + (v.na ? ' (n/a)' : ''), 11)} Herald ${pad(found ? `found ${findings.length}× ${m.herald.join(', ')}` : 'not found', 40)} ${status}`);
      console.log(`      (judged on ${pathOf(home[0], site.origin)}'s run${verdicts.size > 1 ? `; NOTE: Lighthouse's runs differ: ${[...verdicts].join('/')}` : ''})`);
      if (agree !== true || opts.verbose) {
        for (const line of lhExplain(audit)) console.log(`      LH: ${line}`);
        for (const line of heraldExplain(findings)) console.log(`      Herald: ${line}`);
      }
    }
    if (otherSeo.size) {
      console.log(`\nLighthouse SEO audits with no Herald check (not compared):`);
      for (const [id, v] of otherSeo) console.log(`  ${pad(id, 18)} ${v.join(', ')}`);
    }

    // Summary.
    const disagreements = rows.filter((r) => r.crawled && r.agree === false);
    const compared = tally.bothFail + tally.bothPass + tally.recall + tally.precision;
    console.log(`\n================ Summary ================`);
    console.log(`Compared:   ${compared} (page, audit) pairs over ${[...pageInfo.values()].filter((i) => i.herald).length} pages + ${siteWide.length} site-wide`);
    console.log(`Agree:      ${tally.bothFail + tally.bothPass}  (both fail ${tally.bothFail}, both pass ${tally.bothPass})`);
    console.log(`Recall misses    (Lighthouse fails, Herald does not report): ${tally.recall}`);
    console.log(`Precision misses (Herald reports, Lighthouse passes):         ${tally.precision}`);
    if (tally.lhError) console.log(`Lighthouse errors (not counted): ${tally.lhError}`);
    if (tally.uncrawled) console.log(`Pages of the dir Herald did not crawl (not counted): ${tally.uncrawled} pairs`);
    const lhFails = tally.bothFail + tally.recall;
    const hFlags = tally.bothFail + tally.precision;
    if (lhFails) console.log(`Herald found ${tally.bothFail} of Lighthouse's ${lhFails} failures (${(100 * tally.bothFail / lhFails).toFixed(0)}%)`);
    if (hFlags) console.log(`${tally.bothFail} of Herald's ${hFlags} mapped findings are Lighthouse failures (${(100 * tally.bothFail / hFlags).toFixed(0)}%)`);
    if (disagreements.length) {
      console.log(`Disagreements:`);
      for (const d of disagreements) {
        console.log(`  ${pad(d.path, 28)} ${pad(d.audit, 18)} ${d.lh === 'FAIL' ? 'LH FAIL, Herald not found' : `LH PASS${d.na ? ' (n/a)' : ''}, Herald ${[...new Set(d.findings.map((f) => f.check_id))].join(', ')}`}`);
      }
    }

    // Speed.
    const lhRuns = [...runs.values()].filter((r) => !r.error);
    const lhSeconds = lhRuns.reduce((s, r) => s + r.seconds, 0);
    const lhRate = lhSeconds > 0 ? lhRuns.length / lhSeconds : 0;
    const hRate = h.seconds > 0 ? heraldPages.length / h.seconds : 0;
    console.log(`\nSpeed (wall clock on this machine, ${os.cpus().length} cores):`);
    console.log(`  Lighthouse: ${lhRuns.length} pages in ${lhSeconds.toFixed(2)} s = ${(lhSeconds / Math.max(1, lhRuns.length)).toFixed(2)} s/page, ${lhRate.toFixed(3)} pages/s` +
      ` (Chromium start not counted: ${chrome.launchSeconds?.toFixed(2) ?? '?'} s, ${chrome.launches} launch${chrome.launches === 1 ? '' : 'es'})`);
    console.log(`  Herald:     ${heraldPages.length} pages in ${h.seconds.toFixed(2)} s (POST to completed, robots.txt/llms.txt/sitemap fetches and the analysis included)` +
      ` = ${(1000 * h.seconds / Math.max(1, heraldPages.length)).toFixed(0)} ms/page, ${hRate.toFixed(2)} pages/s`);
    if (lhRate > 0 && hRate > 0) console.log(`  Ratio:      Herald ${(hRate / lhRate).toFixed(1)}× Lighthouse's pages per second`);

    if (opts.json) {
      const out = {
        site: site.origin, lighthouse: lh.version, herald_audit: h.id,
        tally, disagreements: disagreements.map((d) => ({
          page: d.path, audit: d.audit, lighthouse: d.lh, herald: d.findings.map((f) => f.check_id),
          lighthouse_explanation: lhExplain(d.lhAudit), herald_explanation: heraldExplain(d.findings),
        })),
        rows: rows.map((r) => ({ page: r.path, audit: r.audit, lighthouse: r.lh, not_applicable: r.na, herald_found: r.found, agree: r.agree, crawled: r.crawled })),
        speed: {
          lighthouse: { pages: lhRuns.length, seconds: lhSeconds, pages_per_second: lhRate, per_page: Object.fromEntries([...runs].map(([u, r]) => [pathOf(u, site.origin), r.seconds])) },
          herald: { pages: heraldPages.length, seconds: h.seconds, pages_per_second: hRate },
          ratio: lhRate > 0 ? hRate / lhRate : null,
        },
        failed_runs: [...runs].filter(([, r]) => r.error).map(([u, r]) => ({ page: pathOf(u, site.origin), error: r.error })),
      };
      fs.writeFileSync(opts.json, JSON.stringify(out, null, 2) + '\n');
      console.log(`\nWrote ${opts.json}`);
    }

    if (failedToRun) {
      console.error(`\ncompare: some Lighthouse runs failed (above); the comparison is incomplete`);
      return 2;
    }
    return opts.strict && disagreements.length ? 1 : 0;
  } catch (e) {
    console.error(`\ncompare: ${e instanceof RunError ? e.message : e.stack ?? e}`);
    return 2;
  } finally {
    await cleanup();
  }
}

process.exitCode = await main();
// Whatever Lighthouse left behind (sockets, timers) must not keep us alive.
setTimeout(() => process.exit(process.exitCode), 200).unref();
