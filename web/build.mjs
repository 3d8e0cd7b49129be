#!/usr/bin/env node
// Builds Herald's dashboard: web/src (app.ts and its modules, styles.css,
// index.html, favicon.svg) plus clients/js/src (imported as 'herald-client')
// into ONE self-contained HTML file: one inline <style>, one inline <script>,
// the favicon as a data: URI. The server hashes both blocks into its
// Content-Security-Policy (src/api/page_policy.cc) and CMake embeds the file
// in the binary as a C++ raw string (cmake/dashboard_page.cmake).
//
//   node web/build.mjs OUT.html            build once
//   node web/build.mjs OUT.html --watch    rebuild on every change (serve
//                                          with HERALD_WEB_ROOT=<dir of OUT>)
//
// Fails (exit 1, one line saying why) when the page would break its
// embedding: the raw string's delimiter in the text, more than one inline
// script or style, or more than MAX_BYTES.

import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const clientSrc = join(here, '..', 'clients', 'js', 'src');
const DELIMITER = ')HERALD_PAGE"';
const MAX_BYTES = 120 * 1024;

const args = process.argv.slice(2);
const watching = args.includes('--watch');
const outArg = args.find((a) => !a.startsWith('--'));
if (!outArg) {
  console.error('usage: node web/build.mjs OUT.html [--watch]');
  process.exit(2);
}
const out = resolve(outArg);

class PageError extends Error {}

async function bundle(entry, options) {
  const result = await esbuild.build({
    entryPoints: [join(src, entry)],
    bundle: true,
    write: false,
    minify: true,
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
    ...options,
  });
  return result.outputFiles[0].text.trim();
}

function favicon() {
  const svg = readFileSync(join(src, 'favicon.svg'), 'utf8').trim();
  // A data: URI inside href="...": no double quotes, and the few characters
  // a URI cannot carry raw are escaped.
  const uri = 'data:image/svg+xml,' + svg.replace(/"/g, "'").replace(/[\r\n]+/g, ' ').replace(/[#<>%]/g, encodeURIComponent);
  const logo = svg.replace('<svg ', '<svg width="26" height="26" aria-hidden="true" focusable="false" ');
  return { uri, logo };
}

function count(text, needle) {
  return text.toLowerCase().split(needle).length - 1;
}

export async function build() {
  const js = await bundle('app.ts', {
    format: 'iife',
    target: ['es2020'],
    platform: 'browser',
    tsconfig: join(here, 'tsconfig.json'),
  });
  const css = await bundle('styles.css', { loader: { '.css': 'css' } });
  const { uri, logo } = favicon();
  const template = readFileSync(join(src, 'index.html'), 'utf8');
  const parts = {
    '<!--HERALD:FAVICON-->': uri,
    '<!--HERALD:LOGO-->': logo,
    '<!--HERALD:STYLE-->': '<style>' + css + '</style>',
    '<!--HERALD:SCRIPT-->': '<script>' + js + '</script>',
  };
  let page = template;
  for (const [marker, value] of Object.entries(parts)) {
    if (count(page, marker.toLowerCase()) !== 1) throw new PageError(`web/src/index.html must contain ${marker} exactly once`);
    page = page.replace(marker, () => value);
  }
  // The checks that keep the page embeddable and its CSP right.
  if (page.includes(DELIMITER))
    throw new PageError(`the page contains ${DELIMITER}, which would end the C++ raw string it is embedded in; reword that text`);
  if (count(page, '<script') !== 1 || count(page, '</script') !== 1)
    throw new PageError('the page must have exactly one inline <script> (the CSP hashes it); some text contains "<script" or "</script"');
  if (count(page, '<style') !== 1 || count(page, '</style') !== 1)
    throw new PageError('the page must have exactly one inline <style> (the CSP hashes it); some text contains "<style" or "</style"');
  if (page.includes('<!--HERALD:')) throw new PageError('an unknown <!--HERALD:...--> marker is left in web/src/index.html');
  const bytes = Buffer.byteLength(page);
  if (bytes > MAX_BYTES) throw new PageError(`the page is ${bytes} bytes, more than ${MAX_BYTES}`);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = out + '.tmp';
  writeFileSync(tmp, page);
  renameSync(tmp, out); // never a half-written page for the server or CMake
  return { bytes, js: Buffer.byteLength(js), css: Buffer.byteLength(css) };
}

async function once() {
  const { bytes, js, css } = await build();
  console.log(`dashboard: ${relative(process.cwd(), out) || out}: ${bytes} bytes (script ${js}, style ${css})`);
}

function explain(e) {
  if (e instanceof PageError) return 'dashboard: ' + e.message;
  if (e?.errors?.length) return e.errors.map((x) => `dashboard: ${x.location ? `${x.location.file}:${x.location.line}: ` : ''}${x.text}`).join('\n');
  return 'dashboard: ' + (e?.stack ?? e);
}

if (!watching) {
  try {
    await once();
  } catch (e) {
    console.error(explain(e));
    process.exit(1);
  }
} else {
  let timer = null;
  const rebuild = () => {
    clearTimeout(timer);
    timer = setTimeout(() => once().catch((e) => console.error(explain(e))), 100);
  };
  rebuild();
  for (const dir of [src, clientSrc]) watch(dir, { recursive: true }, rebuild);
  watch(here, (_, f) => (f === 'build.mjs' || f === 'tsconfig.json') && rebuild());
  console.log('dashboard: watching web/src and clients/js/src');
}
