import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

describe('server start-up with invalid configuration', () => {
  it('exits non-zero and names the variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env.PATH, HTTP_PORT: 'not-a-port', DATABASE_URL: 'nope' },
    });
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).toContain('HTTP_PORT');
    expect(r.stderr).toContain('DATABASE_URL');
  });

  it('refuses to start in production with the fallback secret (exit 2, names SECRET_KEY)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', ADMIN_API_KEY: 'a-long-enough-admin-key' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SECRET_KEY');
    expect(r.stderr).toContain('production');
  });
});
