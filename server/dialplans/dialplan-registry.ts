import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../logger.js';
import type { DialplanCatalog } from './dialplan-catalog.js';
import { Dialplan, describeIssues } from './dialplan.schemas.js';

export interface DialplanStatus {
  name: string;
  file: string;
  loadedAt: string | null;
  lastError: string | null;
}

export interface DialplanRegistry extends DialplanCatalog {
  get(name: string): Dialplan | undefined;
  status(): DialplanStatus[];
  /** Re-reads the directory now (also done on file changes and every few seconds). */
  reload(): void;
  close(): void;
}

/**
 * Plans from YAML files, validated at load. A broken edit is reported and the last good version of
 * that plan stays in use, so a typo never takes a live number down.
 */
export function createDialplanRegistry(dir: string, logger: Logger, rescanMs = 5_000): DialplanRegistry {
  const plans = new Map<string, Dialplan>();
  const statuses = new Map<string, DialplanStatus>();
  const mtimes = new Map<string, number>();

  function loadFile(file: string): void {
    const name = path.basename(file).replace(/\.ya?ml$/, '');
    const previous = statuses.get(name);
    try {
      const parsed = Dialplan.safeParse({ name, ...(parseYaml(fs.readFileSync(file, 'utf8')) as object) });
      if (!parsed.success) throw new Error(describeIssues(parsed.error));
      if (parsed.data.name !== name) throw new Error(`name "${parsed.data.name}" must match the file name "${name}"`);
      plans.set(name, parsed.data);
      statuses.set(name, { name, file, loadedAt: new Date().toISOString(), lastError: null });
      logger.info({ type: 'dialplan_loaded', dialplan: name }, 'dialplan loaded');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      statuses.set(name, { name, file, loadedAt: previous?.loadedAt ?? null, lastError: message });
      logger.error({ type: 'dialplan_invalid', dialplan: name, error: message }, plans.has(name) ? 'dialplan invalid; keeping last good version' : 'dialplan invalid');
    }
  }

  function reload(): void {
    let files: string[] = [];
    try {
      files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f));
    } catch (err) {
      logger.error({ err, type: 'dialplan_dir_unreadable' }, 'dialplans directory unreadable');
      return;
    }
    for (const file of files) {
      const mtime = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
      if (mtimes.get(file) === mtime) continue;
      mtimes.set(file, mtime);
      loadFile(file);
    }
  }

  reload();
  let debounce: NodeJS.Timeout | undefined;
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(dir, () => {
      clearTimeout(debounce);
      debounce = setTimeout(reload, 100);
    });
    watcher.on('error', () => {});
  } catch {
    // No inotify: the periodic re-scan below still picks changes up.
  }
  const rescan = setInterval(reload, rescanMs);
  rescan.unref();

  return {
    has: (name) => plans.has(name),
    get: (name) => plans.get(name),
    status: () => [...statuses.values()].sort((a, b) => a.name.localeCompare(b.name)),
    reload,
    close() {
      clearInterval(rescan);
      clearTimeout(debounce);
      watcher?.close();
    },
  };
}
