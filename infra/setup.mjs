#!/usr/bin/env node
// `npm start` / `npm test` pre-step: system packages, npm dependencies, the project's own
// services (skipped for any service whose URL the environment already gives), migrations.
import { execFileSync } from 'node:child_process';
import { installNodeModules, installSystemPackages, projectRoot, startPostgres, startRedis, startRtpengine } from './services.mjs';
import { buildWebIfStale } from '../server/web/build-web.mjs';

const forTests = process.argv.includes('--for-tests');
const started = Date.now();
try {
  installSystemPackages({ forTests });
  installNodeModules();
  // The browser UI is served from server/web/dist; rebuilt only when its sources changed.
  buildWebIfStale({ quiet: true });
  if (!process.env.DATABASE_URL) await startPostgres();
  if (!process.env.REDIS_URL) await startRedis();
  if (!process.env.RTPENGINE_NG) await startRtpengine();
  if (!forTests) {
    // Tests migrate their own isolated schemas; the server's database is migrated here.
    execFileSync(process.execPath, ['--import', 'tsx', 'server/db/migrate-cli.ts'], { cwd: projectRoot, stdio: 'inherit' });
  }
  process.stdout.write(`[infra] ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
} catch (err) {
  process.stderr.write(`[infra] set-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
