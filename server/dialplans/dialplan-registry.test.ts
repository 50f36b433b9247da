import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createDialplanRegistry, type DialplanRegistry, type DialplanRegistryOptions } from './dialplan-registry.js';

const logger = createLogger('silent');
const open: DialplanRegistry[] = [];
const dirs: string[] = [];

function setup(files: Record<string, string>, options: DialplanRegistryOptions = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialplans-test-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'prompts'));
  fs.writeFileSync(path.join(dir, 'prompts', 'hello.wav'), 'RIFF');
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body);
  // Long re-scan by default: tests that rely on it say so; the others call reload() or use the watcher.
  const registry = createDialplanRegistry(dir, logger, { rescanMs: 60_000, removeAfterMs: 0, ...options });
  open.push(registry);
  const write = (name: string, body: string) => fs.writeFileSync(path.join(dir, name), body);
  const statusOf = (file: string) => registry.status().find((s) => path.basename(s.file) === file);
  return { dir, registry, write, statusOf };
}

/** Polls a condition the registry reaches on its own (watcher or re-scan), bounded. */
async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const GOOD = 'steps:\n  - forward: { targets: ["sip:a@127.0.0.2:5080"] }\n';
const GOOD_TWO_STEPS = 'steps:\n  - announce: { file: hello.wav }\n  - hangup: {}\n';

afterEach(() => {
  for (const r of open.splice(0)) r.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe(createDialplanRegistry.name, () => {
  it('loads every .yaml/.yml plan, naming each by its file', () => {
    const { registry, statusOf } = setup({ 'sales.yaml': GOOD, 'ivr.yml': GOOD_TWO_STEPS, 'notes.txt': 'not a plan', '.sales.yaml.swp': 'x' });
    expect(registry.get('sales')).toMatchObject({ name: 'sales', record: true, steps: [{ forward: { strategy: 'simultaneous' } }] });
    expect(registry.has('ivr')).toBe(true);
    expect(registry.has('notes')).toBe(false);
    expect(
      registry
        .status()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['ivr', 'sales']);
    expect(statusOf('sales.yaml')).toMatchObject({ name: 'sales', lastError: null, lastErrorAt: null, active: true, warnings: [] });
    expect(Date.parse(statusOf('sales.yaml')!.loadedAt!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps the last good version when a file breaks, reports why, and picks up the fix', () => {
    const { registry, write, statusOf } = setup({ 'sales.yaml': GOOD });
    const firstLoad = statusOf('sales.yaml')!.loadedAt;
    write('sales.yaml', 'steps:\n  - forward: { targets: ["sip:a@h", "sip:*@h"] }\n');
    registry.reload();
    expect(registry.get('sales')?.steps).toEqual([{ forward: { targets: ['sip:a@127.0.0.2:5080'], strategy: 'simultaneous', ringSeconds: 20 } }]);
    expect(statusOf('sales.yaml')).toMatchObject({ loadedAt: firstLoad, active: true });
    expect(statusOf('sales.yaml')!.lastError).toMatch(/^steps\[0\]\.forward\.targets\[1\]: not a target/);
    write('sales.yaml', GOOD_TWO_STEPS);
    registry.reload();
    expect(registry.get('sales')?.steps).toHaveLength(2);
    expect(statusOf('sales.yaml')).toMatchObject({ lastError: null, active: true });
  });

  it('never throws on bad YAML, wrong shapes or unreadable entries', () => {
    const { registry, write, statusOf, dir } = setup({
      'broken.yaml': 'steps: [ { forward: { targets: [',
      'list.yaml': '- a\n- b\n',
      'empty.yaml': '',
      'loop.yaml': 'steps: &s [ { menu: { prompt: hello.wav, options: { "1": *s } } } ]\n',
      'bad name.yaml': GOOD,
    });
    fs.mkdirSync(path.join(dir, 'folder.yaml'));
    registry.reload();
    expect(statusOf('broken.yaml')!.lastError).toMatch(/^YAML: /);
    expect(statusOf('list.yaml')!.lastError).toBe('expected a YAML mapping with "steps"');
    expect(statusOf('empty.yaml')!.lastError).toBe('expected a YAML mapping with "steps"');
    expect(statusOf('loop.yaml')!.lastError).toMatch(/nested deeper than/);
    expect(statusOf('bad name.yaml')!.lastError).toMatch(/file names are letters/);
    expect(statusOf('folder.yaml')!.lastError).toBe('not a regular file');
    expect(registry.status().every((s) => !s.active && s.loadedAt === null)).toBe(true);
    write('broken.yaml', GOOD);
    registry.reload();
    expect(registry.has('broken')).toBe(true);
  });

  it('clears a read error when the file comes back with its old content', () => {
    const { registry, write, statusOf } = setup({ 'sales.yaml': GOOD });
    write('sales.yaml', `# ${'x'.repeat(300 * 1024)}\n${GOOD}`);
    registry.reload();
    expect(statusOf('sales.yaml')).toMatchObject({ active: true, lastError: 'file larger than 262144 bytes' });
    write('sales.yaml', GOOD);
    registry.reload();
    expect(statusOf('sales.yaml')).toMatchObject({ active: true, lastError: null });
  });

  it('refuses a plan whose name differs from its file, and a second file for one name', () => {
    const { registry, statusOf } = setup({ 'sales.yaml': `name: support\n${GOOD}`, 'ivr.yaml': GOOD, 'ivr.yml': GOOD_TWO_STEPS });
    expect(registry.has('sales')).toBe(false);
    expect(registry.has('support')).toBe(false);
    expect(statusOf('sales.yaml')!.lastError).toBe('name "support" must match the file name "sales"');
    expect(registry.get('ivr')?.steps).toHaveLength(1);
    expect(statusOf('ivr.yml')).toMatchObject({ active: false, lastError: 'ivr.yaml already defines dialplan "ivr"; this file is ignored' });
  });

  it('unloads a plan whose file is gone for longer than the grace time', () => {
    const { registry, dir } = setup({ 'sales.yaml': GOOD, 'ivr.yml': GOOD });
    fs.rmSync(path.join(dir, 'sales.yaml'));
    registry.reload();
    expect(registry.has('sales')).toBe(false);
    expect(registry.status().map((s) => s.name)).toEqual(['ivr']);
  });

  it("keeps a plan through an editor's save-by-rename", () => {
    const { registry, dir, write } = setup({ 'sales.yaml': GOOD }, { removeAfterMs: 60_000 });
    fs.rmSync(path.join(dir, 'sales.yaml'));
    registry.reload();
    expect(registry.has('sales')).toBe(true);
    write('sales.yaml', GOOD_TWO_STEPS);
    registry.reload();
    expect(registry.get('sales')?.steps).toHaveLength(2);
  });

  it('warns about prompt files that do not exist but still loads the plan', () => {
    const { registry, statusOf } = setup({
      'ivr.yaml':
        'steps:\n  - menu: { prompt: hello.wav, options: { "1": [ { announce: { file: gone.wav } } ] }, default: [ { voicemail: { greeting: ru/vm.wav } } ] }\n',
    });
    expect(registry.has('ivr')).toBe(true);
    expect(statusOf('ivr.yaml')!.warnings).toEqual([
      expect.stringMatching(/^prompt file gone\.wav not found/),
      expect.stringMatching(/^prompt file ru\/vm\.wav not found/),
    ]);
  });

  it('picks up new and changed files by itself through the directory watcher', async () => {
    const { registry, write } = setup({ 'sales.yaml': GOOD }, { debounceMs: 20 });
    write('new.yaml', GOOD_TWO_STEPS);
    await eventually(() => registry.has('new'));
    write('sales.yaml', GOOD_TWO_STEPS);
    await eventually(() => registry.get('sales')?.steps.length === 2);
  });

  it('picks up changes through the periodic re-scan when watching is off', async () => {
    const { registry, write } = setup({}, { watch: false, rescanMs: 30 });
    expect(registry.has('late')).toBe(false);
    write('late.yaml', GOOD);
    await eventually(() => registry.has('late'));
  });

  it('survives a directory that does not exist yet, and loads it once it does', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dialplans-test-')), 'later');
    dirs.push(path.dirname(dir));
    const registry = createDialplanRegistry(dir, logger, { rescanMs: 30 });
    open.push(registry);
    expect(registry.status()).toEqual([]);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'sales.yaml'), GOOD);
    await eventually(() => registry.has('sales'));
  });

  it('does not reload unchanged content', () => {
    const { registry, statusOf } = setup({ 'sales.yaml': GOOD });
    const plan = registry.get('sales');
    const loadedAt = statusOf('sales.yaml')!.loadedAt;
    registry.reload();
    expect(registry.get('sales')).toBe(plan);
    expect(statusOf('sales.yaml')!.loadedAt).toBe(loadedAt);
  });
});
