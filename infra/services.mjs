// Install and run the project's own Postgres, Redis and rtpengine.
// Plain Node on purpose: it runs before `npm ci` has installed anything.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const settings = JSON.parse(fs.readFileSync(path.join(projectRoot, 'infra/local-services.json'), 'utf8'));
export const dataDir = path.join(projectRoot, settings.dataDir);

const log = (msg) => process.stdout.write(`[infra] ${msg}\n`);

/** Debian packages the server and the test suite need, keyed by a binary that proves each is there. */
const SYSTEM_PACKAGES = [
  { pkg: 'postgresql', probe: '/usr/lib/postgresql' },
  { pkg: 'redis-server', probe: '/usr/bin/redis-server' },
  { pkg: 'rtpengine-daemon', probe: '/usr/bin/rtpengine' },
  { pkg: 'sip-tester', probe: '/usr/bin/sipp', forTests: true },
  { pkg: 'sox', probe: '/usr/bin/sox' },
  { pkg: 'libsox-fmt-all', probe: '/usr/lib/x86_64-linux-gnu/sox/libsox_fmt_mp3.so', optional: true },
  { pkg: 'ffmpeg', probe: '/usr/bin/ffmpeg' },
  { pkg: 'espeak-ng', probe: '/usr/bin/espeak-ng' },
  { pkg: 'chromium', probe: '/usr/bin/chromium', forTests: true },
  { pkg: 'baresip', probe: '/usr/bin/baresip', forTests: true },
  // The SIP edge in front of several B2BUA nodes (npm run start:cluster, test/cluster).
  { pkg: 'kamailio', probe: '/usr/sbin/kamailio' },
  // Its trunk ACL reads the trunks' addresses from Postgres (db_postgres).
  { pkg: 'kamailio-postgres-modules', probe: '/usr/lib/x86_64-linux-gnu/kamailio/modules/db_postgres.so' },
  { pkg: 'wrk', probe: '/usr/bin/wrk', forTests: true },
  // The WSS test makes a throwaway certificate with the openssl command.
  { pkg: 'openssl', probe: '/usr/bin/openssl', forTests: true },
];

export function installSystemPackages({ forTests }) {
  const missing = SYSTEM_PACKAGES.filter((p) => (forTests || !p.forTests) && !fs.existsSync(p.probe)).map((p) => p.pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing system packages ${missing.join(' ')}; run as root or install them: apt-get install ${missing.join(' ')}`);
  }
  log(`apt-get install ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

export function installNodeModules() {
  const marker = path.join(projectRoot, 'node_modules/.package-lock.json');
  const lock = path.join(projectRoot, 'package-lock.json');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  log('npm ci');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: projectRoot, stdio: 'inherit' });
}

function pgBin(name) {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  return path.join(base, versions[0], 'bin', name);
}

/** initdb and postgres refuse to run as root; run them as the postgres system user then. */
function runAsPostgres(cmd, args, opts = {}) {
  if (process.getuid?.() === 0) return spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', ...opts });
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

function ensureDir(dir, owner) {
  fs.mkdirSync(dir, { recursive: true });
  if (owner && process.getuid?.() === 0) execFileSync('chown', ['-R', owner, dir]);
}

export function postgresReady() {
  const { host, port } = settings.postgres;
  return spawnSync(pgBin('pg_isready'), ['-q', '-h', host, '-p', String(port)]).status === 0;
}

/**
 * Postgres runs as the postgres user, which may not be able to reach a clone under a private
 * home directory (/root is 0700); then its data lives under /var/lib/calltrack/<clone hash>.
 */
export function postgresDataDir() {
  const inTree = path.join(dataDir, 'postgres');
  if (process.getuid?.() !== 0) return inTree;
  fs.mkdirSync(dataDir, { recursive: true });
  const reachable = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dataDir]).status === 0;
  if (reachable) return inTree;
  const hash = createHash('sha1').update(projectRoot).digest('hex').slice(0, 12);
  return path.join('/var/lib/calltrack', hash, 'postgres');
}

export async function startPostgres() {
  const { host, port, user, database } = settings.postgres;
  const pgData = postgresDataDir();
  if (postgresReady()) return;
  ensureDir(dataDir);
  if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
    log(`initdb ${pgData}`);
    ensureDir(pgData, 'postgres:postgres');
    const r = runAsPostgres(pgBin('initdb'), ['-D', pgData, '-U', user, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
    if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout}`);
    fs.appendFileSync(
      path.join(pgData, 'postgresql.conf'),
      [
        `listen_addresses = '${host}'`,
        `port = ${port}`,
        `unix_socket_directories = ''`,
        'max_connections = 300',
        'shared_buffers = 256MB',
        'fsync = on',
        'synchronous_commit = on',
        '',
      ].join('\n'),
    );
  }
  ensureDir(pgData, 'postgres:postgres');
  log(`starting postgres on ${host}:${port}`);
  const r = runAsPostgres(pgBin('pg_ctl'), ['-D', pgData, '-l', path.join(pgData, 'server.log'), '-w', '-t', '60', 'start']);
  if (r.status !== 0 && !postgresReady()) throw new Error(`pg_ctl start failed: ${r.stderr || r.stdout}`);
  await waitFor('postgres', postgresReady);
  const exists = spawnSync(pgBin('psql'), ['-h', host, '-p', String(port), '-U', user, '-tAc', `SELECT 1 FROM pg_database WHERE datname='${database}'`], {
    encoding: 'utf8',
  });
  if (exists.stdout.trim() !== '1') {
    execFileSync(pgBin('createdb'), ['-h', host, '-p', String(port), '-U', user, database]);
  }
  // Extensions are database-wide: create them once here, not in per-schema migrations racing each other.
  execFileSync(pgBin('psql'), [
    '-h',
    host,
    '-p',
    String(port),
    '-U',
    user,
    '-d',
    database,
    '-qc',
    'CREATE EXTENSION IF NOT EXISTS btree_gist; CREATE EXTENSION IF NOT EXISTS pgcrypto;',
  ]);
}

export function stopPostgres() {
  const pgData = postgresDataDir();
  if (!fs.existsSync(path.join(pgData, 'postmaster.pid'))) return;
  log('stopping postgres');
  runAsPostgres(pgBin('pg_ctl'), ['-D', pgData, '-m', 'fast', '-w', 'stop']);
}

export function redisReady() {
  const { host, port } = settings.redis;
  const r = spawnSync('redis-cli', ['-h', host, '-p', String(port), 'PING'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === 'PONG';
}

export async function startRedis() {
  if (redisReady()) return;
  const { host, port } = settings.redis;
  const dir = path.join(dataDir, 'redis');
  ensureDir(dir);
  log(`starting redis on ${host}:${port}`);
  execFileSync('redis-server', [
    '--bind',
    host,
    '--port',
    String(port),
    '--daemonize',
    'yes',
    '--dir',
    dir,
    '--pidfile',
    path.join(dir, 'redis.pid'),
    '--logfile',
    path.join(dir, 'redis.log'),
    '--appendonly',
    'yes',
    '--save',
    '',
    '--protected-mode',
    'no',
  ]);
  await waitFor('redis', redisReady);
}

export function stopRedis() {
  if (!redisReady()) return;
  const { host, port } = settings.redis;
  log('stopping redis');
  spawnSync('redis-cli', ['-h', host, '-p', String(port), 'SHUTDOWN']);
}

/** One ng `ping` over UDP: the bencoded dictionary {command: ping} must come back as {result: pong}. */
export function rtpenginePing(host = settings.rtpengine.host, port = settings.rtpengine.ngPort, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const cookie = `p${process.pid}${Date.now()}`;
    const done = (ok) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('message', (msg) => done(msg.toString().startsWith(`${cookie} `) && msg.toString().includes('pong')));
    socket.on('error', () => done(false));
    socket.send(`${cookie} d7:command4:pinge`, port, host);
  });
}

export function rtpengineRecordingDir() {
  return path.join(dataDir, 'rtpengine-recordings');
}

export async function startRtpengine() {
  if (await rtpenginePing()) return;
  const { host, ngPort, dtmfLogPort, portMin, portMax } = settings.rtpengine;
  const dir = path.join(dataDir, 'rtpengine');
  ensureDir(dir);
  ensureDir(rtpengineRecordingDir());
  log(`starting rtpengine ng ${host}:${ngPort}`);
  const out = fs.openSync(path.join(dir, 'rtpengine.log'), 'a');
  const child = spawn(
    'rtpengine',
    [
      '--table=-1',
      `--interface=${host}`,
      `--listen-ng=${host}:${ngPort}`,
      `--port-min=${portMin}`,
      `--port-max=${portMax}`,
      `--recording-dir=${rtpengineRecordingDir()}`,
      '--recording-method=pcap',
      '--recording-format=raw',
      `--dtmf-log-dest=${host}:${dtmfLogPort}`,
      '--delete-delay=0',
      '--timeout=60',
      '--silent-timeout=3600',
      // A call that never got media is never timed out by rtpengine; cap every call so a crashed server cannot leak them.
      '--final-timeout=43200',
      `--pidfile=${path.join(dir, 'rtpengine.pid')}`,
      '--log-level=5',
      '-f',
      '-E',
    ],
    // Its own directory as cwd: a crash's core dump lands there, under .data, not in the project.
    { detached: true, stdio: ['ignore', out, out], cwd: dir },
  );
  child.unref();
  await waitFor('rtpengine', () => rtpenginePing());
}

export function stopRtpengine() {
  const pidFile = path.join(dataDir, 'rtpengine', 'rtpengine.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  try {
    process.kill(pid, 'SIGTERM');
    log('stopping rtpengine');
  } catch {
    /* already gone */
  }
  fs.rmSync(pidFile, { force: true });
}

async function waitFor(name, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not become ready within ${timeoutMs / 1000}s`);
}

export function localDatabaseUrl() {
  const { host, port, user, database } = settings.postgres;
  return `postgres://${user}@${host}:${port}/${database}`;
}
