// What the browser tests stand on: the real `herald serve` (build/herald,
// SQLite in a temp dir, audit workers in process), the fixture site served
// on loopback, an optional proxy that refuses the SSE paths (so the page
// must fall back to polling), and Debian's Chromium through playwright-core.
// Everything listens on 127.0.0.1; every wait is bounded.

import { spawn, execFileSync } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
export const repo = normalize(join(here, '..', '..'));
export const heraldBinary = process.env.HERALD_BINARY ?? join(repo, 'build', 'herald');
export const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });

const secret = 'e2e-secret-' + process.pid;

export function token(sub = 'e2e', role = 'user') {
  return execFileSync(heraldBinary, ['token', '--sub', sub, '--role', role], {
    env: { JWT_SECRET: secret, PATH: process.env.PATH },
  })
    .toString()
    .trim();
}

// A port that was free a moment ago.
export async function freePort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

async function waitFor(what, check, ms = 10000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// `herald serve` on a fixed port and database, restartable on both.
// Starts an audit of `url` as `user`; its id.
export async function createAudit(herald, url, user = 'e2e') {
  const res = await fetch(herald.url('/api/v1/audits'), {
    method: 'POST',
    headers: { authorization: `Bearer ${token(user)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, max_pages: 20 }),
  });
  if (res.status !== 201) throw new Error(`create audit: ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}

export class Herald {
  // `env`: extra environment for `herald serve` (e.g. a short
  // SSE_HEARTBEAT_SECONDS), over the defaults below.
  constructor({ env = {} } = {}) {
    this.extraEnv = env;
    this.dir = mkdtempSync(join(tmpdir(), 'herald-e2e-'));
    this.child = null;
    this.log = '';
  }

  async start(port) {
    this.port = port ?? this.port ?? (await freePort());
    this.child = spawn(heraldBinary, ['serve'], {
      env: {
        PATH: process.env.PATH,
        JWT_SECRET: secret,
        HERALD_LISTEN: `127.0.0.1:${this.port}`,
        DATABASE_URL: `sqlite://${join(this.dir, 'herald.db')}`,
        AUDIT_ALLOW_PRIVATE: '1',
        HERALD_WORKERS: '2',
        HERALD_AUDIT_LEASE_SECONDS: '2',
        SSE_RETRY_MS: '1000',
        HERALD_DRAIN_SECONDS: '1',
        HERALD_LOG_LEVEL: 'info',
        ...this.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout.on('data', (d) => (this.log += d));
    this.child.stderr.on('data', (d) => (this.log += d));
    await waitFor('herald /healthz', async () => (await fetch(this.url('/healthz'))).ok);
    return this;
  }

  url(path = '/') {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(signal = 'SIGTERM') {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((ok) => this.child.once('exit', ok));
    this.child.kill(signal);
    let timer;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer); // a pending 5 s timer would hold the test process open
    this.child = null;
  }

  async dispose() {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const types = { '.html': 'text/html', '.txt': 'text/plain', '.xml': 'application/xml' };

// tests/fixtures/site on loopback (the pages the audit tests know), with a
// slow page so an audit lasts long enough to be watched and interrupted.
export async function fixtureSite() {
  const root = join(repo, 'tests', 'fixtures', 'site');
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/slow-page') {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><html lang="en"><head><title>Slow page for the e2e run</title></head><body><h1>Slow</h1><p>Slow.</p></body></html>');
      }, 1500);
      return;
    }
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    if (path.endsWith('/')) file = join(file, 'index.html');
    if (!existsSync(file)) return res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

// A reverse proxy to Herald on another port. With `blockStreams` it answers
// 503 on the SSE paths: a network where event streams do not get through
// (some corporate proxies). `files` maps paths to files it serves itself,
// same-origin with Herald (a web app's own pages).
// A front for Herald on another port: serves `files` itself, passes the rest
// through. `requests` lists what passed through ("GET /api/v1/...").
export async function proxy(target, { blockStreams = false, files = {} } = {}) {
  const requests = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (!files[path]) requests.push(`${req.method} ${req.url}`);
    if (files[path]) {
      const type = path.endsWith('.html') ? 'text/html' : 'text/javascript';
      res.writeHead(200, { 'content-type': type }).end(readFileSync(files[path]));
      return;
    }
    if (blockStreams && (path.startsWith('/api/v1/sse/') || path.startsWith('/notify/events'))) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('streams are blocked here');
      return;
    }
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    // A client that goes away (EventSource.close(), a closed page) is gone
    // for Herald too, as without the proxy.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const port = server.address().port;
  return { port, requests, url: (p = '/') => `http://127.0.0.1:${port}${p}`, close: () => server.close() };
}

export const streamBlockingProxy = (target) => proxy(target, { blockStreams: true });

// Debian's Chromium, headless, with nothing that calls out of this machine.
export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}
