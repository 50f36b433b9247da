/**
 * bench:register — REGISTER with digest against our registrar: 10,000 extensions (BENCH_EXTENSIONS)
 * each register once (REGISTER → 401 with a nonce → REGISTER with Authorization → 200), from a UDP
 * client in a worker thread keeping BENCH_WINDOW phones in flight. Prints authenticated REGISTERs per
 * second, and memory: the node's heap and RSS and Redis's used_memory before and after the 10,000
 * bindings. Goal: ≥ 1000 REGISTERs/s.
 */
import { Worker } from 'node:worker_threads';
// @ts-expect-error plain .mjs shared with the set-up script, no types
import { startPostgres, startRedis, startRtpengine } from '../infra/services.mjs';
import { startCallServer } from '../test/helpers/call-server.js';
import { createHarness } from '../test/helpers/harness.js';

const EXTENSIONS = Number(process.env.BENCH_EXTENSIONS ?? 10_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 64);
const PASSWORD = 'bench-password';
const PHONE_IP = '127.0.0.60';
const ACCOUNT = '00000000-0000-0000-0000-000000000001';
const say = (s: string) => process.stdout.write(`${s}\n`);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const WORKER_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const crypto = require('node:crypto');
const { host, port, phoneIp, realm, password, users, window } = workerData;
const md5 = (t) => crypto.createHash('md5').update(t).digest('hex');
const socket = dgram.createSocket('udp4');
const uri = 'sip:' + host + ':' + port;
const pending = new Map();
let next = 0, ok = 0, failed = 0, t0 = 0;
function message(user, callId, cseq, auth) {
  return ['REGISTER ' + uri + ' SIP/2.0',
    'Via: SIP/2.0/UDP ' + phoneIp + ':' + socket.address().port + ';branch=z9hG4bK' + crypto.randomBytes(6).toString('hex') + ';rport',
    'From: <sip:' + user + '@' + host + '>;tag=' + callId.slice(0, 8), 'To: <sip:' + user + '@' + host + '>',
    'Call-ID: ' + callId, 'CSeq: ' + cseq + ' REGISTER', 'Contact: <sip:' + user + '@' + phoneIp + ':' + socket.address().port + '>',
    'Expires: 3600', 'Max-Forwards: 70', ...(auth ? ['Authorization: ' + auth] : []), 'Content-Length: 0', '', ''].join('\\r\\n');
}
function start() {
  if (next >= users.length) return;
  const user = users[next++];
  const callId = crypto.randomBytes(8).toString('hex') + '@bench';
  pending.set(callId, { user, step: 1 });
  socket.send(message(user, callId, 1), port, host);
}
function finish() {
  if (pending.size === 0 && next >= users.length) {
    parentPort.postMessage({ ok, failed, seconds: (performance.now() - t0) / 1000 });
    socket.close();
  }
}
socket.on('message', (buf) => {
  const text = buf.toString();
  const callId = /\\r\\nCall-ID: *([^\\r]+)/i.exec(text)?.[1];
  const state = callId && pending.get(callId);
  if (!state) return;
  const status = Number(text.slice(8, 11));
  if (status === 401 && state.step === 1) {
    const nonce = /nonce="([^"]+)"/.exec(text)[1];
    const ha1 = md5(state.user + ':' + realm + ':' + password);
    const response = md5(ha1 + ':' + nonce + ':00000001:c0ffee:auth:' + md5('REGISTER:' + uri));
    state.step = 2;
    socket.send(message(state.user, callId, 2, 'Digest username="' + state.user + '", realm="' + realm + '", nonce="' + nonce + '", uri="' + uri + '", response="' + response + '", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"'), port, host);
    return;
  }
  pending.delete(callId);
  if (status === 200) ok++; else failed++;
  start();
  finish();
});
socket.bind(0, phoneIp, () => {
  t0 = performance.now();
  for (let i = 0; i < window; i++) start();
});
`;

await startPostgres();
await startRedis();
await startRtpengine();
const h = await createHarness({ DATABASE_STATEMENT_TIMEOUT_MS: '600000' });
const server = await startCallServer(h, { convertRecordings: false });
try {
  const realm = h.config.sip.realm;
  await h.db.query(
    `INSERT INTO extensions (account_id, extension, name, sip_username, password_ha1)
     SELECT $1, (10000 + g)::text, 'Bench ' || g, 'bench' || g, md5('bench' || g || ':' || $2 || ':' || $3) FROM generate_series(1, $4) g`,
    [ACCOUNT, realm, PASSWORD, EXTENSIONS],
  );
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await h.redis.info('memory'))?.[1] ?? 0);
  global.gc?.();
  const before = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, redis: await usedMemory() };
  const users = Array.from({ length: EXTENSIONS }, (_, i) => `bench${i + 1}`);
  const result = await new Promise<{ ok: number; failed: number; seconds: number }>((resolve, reject) => {
    const worker = new Worker(WORKER_JS, {
      eval: true,
      workerData: { host: '127.0.0.1', port: server.sipPort, phoneIp: PHONE_IP, realm, password: PASSWORD, users, window: WINDOW },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  global.gc?.();
  const after = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, redis: await usedMemory() };
  const bound = Number((await h.redis.keys(`${h.config.redis.prefix}*`)).length);
  say(`REGISTER with digest: ${result.ok} registered, ${result.failed} refused, in ${result.seconds.toFixed(2)} s`);
  say(`  rate: ${Math.round(result.ok / result.seconds)} REGISTERs/s (each a 401 challenge and an authenticated REGISTER), window ${WINDOW}`);
  say(`  Redis keys under the test prefix: ${bound}`);
  say(
    `  memory with ${EXTENSIONS} registered: node heap ${mib(before.heap)} -> ${mib(after.heap)}, RSS ${mib(before.rss)} -> ${mib(after.rss)}; Redis used_memory ${mib(before.redis)} -> ${mib(after.redis)} (+${mib(after.redis - before.redis)})`,
  );
} finally {
  await server.stop();
  await h.close();
}
process.exit(0);
