/**
 * Open-loop HTTP load generator run in a worker thread (its own event loop, so the server's
 * latency is not inflated by the client's work). Latency counts from the scheduled send time,
 * so a stalled server cannot hide queued requests (no coordinated omission).
 */
export const LOAD_WORKER_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { host, port, rate, seconds, requests, headers, maxInFlight } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const lat = [];
let sent = 0, done = 0, errors = 0, dropped = 0, inFlight = 0;
const status = {};
const t0 = performance.now();
const total = Math.round(rate * seconds);
function fire(i, due) {
  if (inFlight >= maxInFlight) { dropped++; return; }
  const r = requests[i % requests.length];
  inFlight++; sent++;
  const req = http.request({ host, port, method: 'POST', path: r.path, agent, headers: { ...headers, 'content-length': Buffer.byteLength(r.body) } }, (res) => {
    res.resume();
    res.on('end', () => {
      inFlight--; done++;
      status[res.statusCode] = (status[res.statusCode] || 0) + 1;
      lat.push(performance.now() - due);
      if (done + errors + dropped === total) finish();
    });
  });
  req.on('error', () => { inFlight--; errors++; if (done + errors + dropped === total) finish(); });
  req.end(r.body);
}
let next = 0;
const tick = setInterval(() => {
  const now = performance.now();
  const shouldHave = Math.min(total, Math.floor(((now - t0) / 1000) * rate));
  while (next < shouldHave) { fire(next, t0 + (next / rate) * 1000); next++; }
  if (next >= total) clearInterval(tick);
}, 1);
let finished = false;
function finish() {
  if (finished) return; finished = true;
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN;
  parentPort.postMessage({ sent, done, errors, dropped, status, achieved: done / elapsed, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] });
  agent.destroy();
}
setTimeout(() => finish(), (seconds + 10) * 1000).unref();
`;

export interface LoadResult {
  sent: number;
  done: number;
  errors: number;
  dropped: number;
  status: Record<string, number>;
  achieved: number;
  p50: number;
  p99: number;
  max: number;
}
