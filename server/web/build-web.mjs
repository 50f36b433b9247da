// Builds the browser UI (server/web/src -> server/web/dist) with Vite when dist is missing or
// older than any source file. Plain Node so infra/setup.mjs and tests can both call it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const distIndex = path.join(webDir, 'dist', 'index.html');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

export function webBuildIsStale() {
  if (!fs.existsSync(distIndex)) return true;
  const sources = Math.max(
    newestMtime(path.join(webDir, 'src')),
    fs.statSync(path.join(webDir, 'index.html')).mtimeMs,
    fs.statSync(path.join(webDir, 'vite.config.ts')).mtimeMs,
  );
  return sources > fs.statSync(distIndex).mtimeMs;
}

/** Runs `vite build` when needed; returns true when it built. */
export function buildWebIfStale({ quiet = false } = {}) {
  if (!webBuildIsStale()) return false;
  const vite = path.join(webDir, '..', '..', 'node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', path.join(webDir, 'vite.config.ts'), ...(quiet ? ['--logLevel', 'warn'] : [])], {
    // A caller's NODE_ENV (vitest sets "test") would make Vite bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
    cwd: path.join(webDir, '..', '..'),
    stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
  });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const force = process.argv.includes('--force');
  if (force) fs.rmSync(distIndex, { force: true });
  buildWebIfStale();
}
