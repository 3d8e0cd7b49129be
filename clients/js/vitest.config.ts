import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  // The README's examples import the package by name: point it at the sources.
  resolve: {
    alias: [
      { find: /^herald-client\/react$/, replacement: src('react.ts') },
      { find: /^herald-client$/, replacement: src('index.ts') },
    ],
  },
  esbuild: { jsx: 'automatic' },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    environment: 'node',
    // Keep CPU use modest: the C++ suites may be running beside this one.
    pool: 'threads',
    poolOptions: { threads: { maxThreads: 2, minThreads: 1 } },
  },
});
