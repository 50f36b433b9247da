import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../logger.js';
import type { DialplanCatalog } from './dialplan-catalog.js';
import { type Dialplan, type Step, parseDialplan } from './dialplan.schemas.js';

export interface DialplanStatus {
  name: string;
  /** Absolute path of the YAML file. */
  file: string;
  /** When the version in use was loaded; null when no version of this file ever loaded. */
  loadedAt: string | null;
  /** Why the file's current content is not in use; null when it is. */
  lastError: string | null;
  lastErrorAt: string | null;
  /** Calls can be routed to this plan (a good version is loaded). */
  active: boolean;
  /** Non-fatal problems, e.g. prompt files that do not exist (the call skips them). */
  warnings: string[];
}

export interface DialplanRegistry extends DialplanCatalog {
  /** The directory the plans come from; prompts are in its `prompts/`. */
  readonly dir: string;
  get(name: string): Dialplan | undefined;
  status(): DialplanStatus[];
  /** Re-reads the directory now (also done on file changes and every `rescanMs`). */
  reload(): void;
  close(): void;
}

export interface DialplanRegistryOptions {
  /** Periodic re-scan, the fallback when fs.watch misses events (network file systems, editors). Default 5 s. */
  rescanMs?: number;
  /** Quiet time after a change event before re-reading. Default 100 ms. */
  debounceMs?: number;
  /**
   * How long a file must stay missing before its plan is dropped. Editors save by rename, so a
   * plan briefly "disappears"; a call arriving then must still find it. Default 2 s.
   */
  removeAfterMs?: number;
  /** Watch the directory with fs.watch (default true); the periodic re-scan runs either way. */
  watch?: boolean;
  /** Where prompt files live, for warnings about missing ones. Default `<dir>/prompts`. */
  promptsDir?: string;
}

const MAX_FILE_BYTES = 256 * 1024;
const MAX_DEPTH = 40;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*\.ya?ml$/;

interface Entry {
  name: string;
  file: string;
  content: string | undefined;
  plan: Dialplan | undefined;
  loadedAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  warnings: string[];
  missingSince: number | undefined;
}

/**
 * Plans from the YAML files of one directory, validated at load. A broken edit is reported and the
 * last good version of that plan stays in use, so a typo never takes a live number down. Never throws.
 *
 * @example
 *   const dialplans = createDialplanRegistry(config.dialplansDir, logger);
 *   dialplans.get('sales'); // Dialplan | undefined
 *   dialplans.close();      // on shutdown
 */
export function createDialplanRegistry(dir: string, logger: Logger, options: DialplanRegistryOptions | number = {}): DialplanRegistry {
  const opts = typeof options === 'number' ? { rescanMs: options } : options;
  const promptsDir = opts.promptsDir ?? path.join(dir, 'prompts');
  const removeAfterMs = opts.removeAfterMs ?? 2_000;
  /** By file name: status is per file, and two files may claim one name (sales.yaml and sales.yml). */
  const entries = new Map<string, Entry>();
  let dirProblem: string | undefined;

  function fail(entry: Entry, message: string): void {
    const now = new Date().toISOString();
    entry.lastError = message;
    entry.lastErrorAt = now;
    logger.error(
      { type: 'dialplan_invalid', dialplan: entry.name, file: entry.file, error: message },
      entry.plan ? 'dialplan invalid; keeping the last good version' : 'dialplan invalid',
    );
  }

  function load(entry: Entry, content: string): void {
    entry.content = content;
    let data: unknown;
    try {
      data = parseYaml(content, { maxAliasCount: 50 });
    } catch (err) {
      return fail(entry, `YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return fail(entry, 'expected a YAML mapping with "steps"');
    if (depth(data) > MAX_DEPTH) return fail(entry, `nested deeper than ${MAX_DEPTH} levels`);
    const declared = (data as { name?: unknown }).name;
    if (declared !== undefined && declared !== entry.name) return fail(entry, `name "${String(declared)}" must match the file name "${entry.name}"`);
    const parsed = parseDialplan({ ...data, name: entry.name });
    if (!parsed.ok) return fail(entry, parsed.error);
    entry.plan = parsed.plan;
    entry.loadedAt = new Date().toISOString();
    entry.lastError = null;
    entry.lastErrorAt = null;
    entry.warnings = promptFiles(parsed.plan.steps)
      .filter((f) => !fs.existsSync(path.join(promptsDir, f)))
      .map((f) => `prompt file ${f} not found in ${promptsDir}`);
    logger.info({ type: 'dialplan_loaded', dialplan: entry.name, file: entry.file, warnings: entry.warnings }, 'dialplan loaded');
  }

  function readCandidate(file: string): string | { error: string } {
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) return { error: 'not a regular file' };
      if (st.size > MAX_FILE_BYTES) return { error: `file larger than ${MAX_FILE_BYTES} bytes` };
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      return { error: `unreadable: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
    }
  }

  function reload(): void {
    let names: string[];
    try {
      // Hidden files are editor scratch copies (.sales.yaml.swp, .#sales.yaml); never plans.
      names = fs
        .readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
        .sort();
      dirProblem = undefined;
    } catch (err) {
      const problem = (err as NodeJS.ErrnoException).code ?? String(err);
      if (problem !== dirProblem) logger.error({ err, dir, type: 'dialplan_dir_unreadable' }, 'dialplans directory unreadable; keeping loaded plans');
      dirProblem = problem;
      return;
    }
    const seen = new Set<string>();
    const owners = new Map<string, string>();
    for (const base of names) {
      seen.add(base);
      const name = base.replace(/\.ya?ml$/, '');
      const file = path.join(dir, base);
      let entry = entries.get(base);
      if (!entry) {
        entry = { name, file, content: undefined, plan: undefined, loadedAt: null, lastError: null, lastErrorAt: null, warnings: [], missingSince: undefined };
        entries.set(base, entry);
      }
      entry.missingSince = undefined;
      if (!FILE_NAME.test(base)) {
        if (entry.lastError === null) fail(entry, 'file names are letters, digits, "-" and "_" followed by .yaml');
        continue;
      }
      const owner = owners.get(name);
      if (owner) {
        entry.plan = undefined;
        entry.content = undefined; // loads afresh if it becomes the owner
        if (entry.lastError === null) fail(entry, `${owner} already defines dialplan "${name}"; this file is ignored`);
        continue;
      }
      owners.set(name, base);
      const content = readCandidate(file);
      if (typeof content !== 'string') {
        if (entry.lastError !== content.error) fail(entry, content.error);
        entry.content = undefined; // re-validate once it is readable again, even if unchanged
        continue;
      }
      if (content !== entry.content) load(entry, content);
    }
    const now = Date.now();
    for (const [base, entry] of entries) {
      if (seen.has(base)) continue;
      entry.missingSince ??= now;
      if (now - entry.missingSince >= removeAfterMs) {
        entries.delete(base);
        logger.warn({ type: 'dialplan_removed', dialplan: entry.name, file: entry.file }, 'dialplan file removed; plan unloaded');
      }
    }
  }

  function activePlan(name: string): Dialplan | undefined {
    const entry = entries.get(`${name}.yaml`)?.plan ? entries.get(`${name}.yaml`) : entries.get(`${name}.yml`);
    return entry?.plan;
  }

  reload();
  let debounce: NodeJS.Timeout | undefined;
  const watcher =
    opts.watch === false
      ? undefined
      : watchDir(dir, logger, () => {
          clearTimeout(debounce);
          debounce = setTimeout(reload, opts.debounceMs ?? 100);
        });
  const rescan = setInterval(reload, opts.rescanMs ?? 5_000);
  rescan.unref();

  return {
    dir,
    has: (name) => activePlan(name) !== undefined,
    get: activePlan,
    status: () =>
      [...entries.values()].map((e) => ({
        name: e.name,
        file: e.file,
        loadedAt: e.loadedAt,
        lastError: e.lastError,
        lastErrorAt: e.lastErrorAt,
        active: e.plan !== undefined && activePlan(e.name) === e.plan,
        warnings: e.warnings,
      })),
    reload,
    close() {
      clearInterval(rescan);
      clearTimeout(debounce);
      watcher?.close();
    },
  };
}

/** fs.watch where the platform has it; a failure only costs latency (the re-scan still runs). */
function watchDir(dir: string, logger: Logger, onChange: () => void): fs.FSWatcher | undefined {
  try {
    // Not persistent: watching must not keep a process alive that is otherwise done.
    const watcher = fs.watch(dir, { persistent: false }, onChange);
    watcher.on('error', (err) => logger.warn({ err, type: 'dialplan_watch_failed' }, 'watching dialplans failed; relying on the periodic re-scan'));
    return watcher;
  } catch (err) {
    logger.warn({ err, type: 'dialplan_watch_failed' }, 'cannot watch the dialplans directory; relying on the periodic re-scan');
    return undefined;
  }
}

/** Depth of a parsed YAML value, bounded so that a self-referencing alias cannot loop. */
function depth(value: unknown, level = 0): number {
  if (level > MAX_DEPTH || value === null || typeof value !== 'object') return level;
  let max = level;
  for (const child of Object.values(value)) {
    max = Math.max(max, depth(child, level + 1));
    if (max > MAX_DEPTH) break;
  }
  return max;
}

/** Every prompt file a plan names. */
function promptFiles(steps: readonly Step[], out: string[] = []): string[] {
  for (const s of steps) {
    if ('announce' in s) out.push(s.announce.file);
    else if ('forward' in s && s.forward.whisper && typeof s.forward.whisper === 'object') out.push(s.forward.whisper.file);
    else if ('voicemail' in s && s.voicemail.greeting) out.push(s.voicemail.greeting);
    else if ('menu' in s) {
      out.push(s.menu.prompt);
      for (const branch of Object.values(s.menu.options)) if (branch) promptFiles(branch, out);
      if (s.menu.default) promptFiles(s.menu.default, out);
    } else if ('hours' in s) promptFiles(s.hours.closed, out);
  }
  return [...new Set(out)];
}
