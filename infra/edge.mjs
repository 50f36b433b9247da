// The SIP edge (Kamailio) in front of the B2BUA nodes: renders infra/kamailio/kamailio.cfg.tmpl
// and runs it. Plain Node so infra scripts and tests can both use it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from './services.mjs';

const TEMPLATE = path.join(projectRoot, 'infra/kamailio/kamailio.cfg.tmpl');
const MODULE_DIRS = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules'];

/**
 * The environment Kamailio runs with: libpq takes the schema (tests give each file its own) from
 * PGOPTIONS, since Kamailio's database URL has no place for it.
 * @param {{ trunkAcl?: { schema?: string } }} options
 */
function edgeEnv(options) {
  const schema = options.trunkAcl?.schema;
  return schema ? { ...process.env, PGOPTIONS: `-c search_path=${schema},public` } : process.env;
}

/**
 * Writes kamailio.cfg and dispatcher.list into `dir`. With `trunkAcl` the edge refuses INVITEs that
 * no node would admit, reading the trunks' addresses from that database every `refreshSeconds`.
 * @param {{ dir: string, host: string, port: number, nodes: Array<{ host: string, port: number }>,
 *   pikeDensity?: number, children?: number, logLevel?: number, frTimerMs?: number, shmMb?: number,
 *   trunkAcl?: { databaseUrl: string, schema?: string, refreshSeconds?: number } }} options
 */
export function renderEdge(options) {
  fs.mkdirSync(options.dir, { recursive: true });
  const dispatcherList = path.join(options.dir, 'dispatcher.list');
  // Set 1, every node; flags 0 (probed only once it misses: ds_probing_mode=1 probes all anyway).
  fs.writeFileSync(dispatcherList, `${options.nodes.map((node) => `1 sip:${node.host}:${node.port} 0`).join('\n')}\n`);
  const modulesDir = MODULE_DIRS.find((dir) => fs.existsSync(dir)) ?? MODULE_DIRS[0];
  const values = {
    LISTEN_HOST: options.host,
    LISTEN_PORT: String(options.port),
    DISPATCHER_LIST: dispatcherList,
    MODULES_DIR: `${modulesDir}/`,
    PIKE_DENSITY: String(options.pikeDensity ?? 200),
    CHILDREN: String(options.children ?? 2),
    LOG_LEVEL: String(options.logLevel ?? 1),
    FR_TIMER_MS: String(options.frTimerMs ?? 1500),
    DEFINES: options.trunkAcl ? '#!define WITH_TRUNK_ACL' : '',
    // Kamailio's db_postgres knows the postgres:// scheme only.
    ACL_DB_URL: options.trunkAcl?.databaseUrl.replace(/^postgresql:/, 'postgres:') ?? '',
    ACL_REFRESH_SECONDS: String(options.trunkAcl?.refreshSeconds ?? 5),
  };
  const cfg = fs.readFileSync(TEMPLATE, 'utf8').replace(/\{\{([A-Z_]+)\}\}/g, (whole, name) => {
    if (!(name in values)) throw new Error(`kamailio template: no value for ${whole}`);
    return values[name];
  });
  const cfgFile = path.join(options.dir, 'kamailio.cfg');
  fs.writeFileSync(cfgFile, cfg);
  const check = spawnSync('kamailio', ['-c', '-f', cfgFile], { encoding: 'utf8', env: edgeEnv(options) });
  if (check.status !== 0) throw new Error(`kamailio rejected ${cfgFile}:\n${check.stderr}`);
  return cfgFile;
}

/**
 * Starts Kamailio in the foreground (a child we can kill) with the rendered config.
 * @param {Parameters<typeof renderEdge>[0] & { detached?: boolean, logFile?: string }} options
 */
export function startEdge(options) {
  const cfgFile = renderEdge(options);
  const out = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';
  // Every transaction in flight lives in shared memory (the INVITE, its branch, replies: ~8 KB), kept
  // for the wait timer after it ends. Kamailio's 64 MB default ran out at 600 calls/s ("out of mem",
  // 500 to every call); 512 MB is address space reserved, not memory used until calls need it.
  const memory = ['-m', String(options.shmMb ?? 512), '-M', '16'];
  const child = spawn('kamailio', ['-DD', '-E', ...memory, '-f', cfgFile, '-Y', options.dir, '-P', path.join(options.dir, 'kamailio.pid')], {
    detached: options.detached ?? false,
    stdio: ['ignore', out, out],
    env: edgeEnv(options),
  });
  return child;
}

/**
 * Stops an edge started by `startEdge` with all its worker processes: Kamailio's main process ends
 * its children on SIGTERM; a SIGKILL would leave them running (and holding the SIP port).
 * @param {import('node:child_process').ChildProcess | undefined} child
 */
export async function stopEdge(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = new Promise((resolve) => setTimeout(resolve, 5_000, 'timeout'));
  if ((await Promise.race([exited, timer])) === 'timeout') child.kill('SIGKILL');
}
