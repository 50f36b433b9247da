#!/usr/bin/env node
// `npm run start:cluster`: the SIP edge (Kamailio) on the public SIP port and N B2BUA nodes
// (server/main.ts processes) behind it, sharing Postgres, Redis and rtpengine. `npm run stop`
// stops them. Settings (environment):
//   CLUSTER_NODES      nodes on this machine (default 2)
//   SIP_HOST/SIP_PORT  where the edge listens (default 127.0.0.1:5060); nodes take SIP_PORT+10+i
//   HTTP_PORT          node i serves HTTP on HTTP_PORT+i (default 8080)
//   CLUSTER_DIR        pid file, logs and rendered edge config (default .data/cluster)
//   CLUSTER_REMOTE_NODES  extra nodes on other machines for the dispatcher, "host:port,host:port"
//   EDGE_PIKE_DENSITY  new requests (INVITE, REGISTER, OPTIONS) one source may send per 2 s before the
//                      edge drops it for a while (default 200): raise it for a carrier sending more CPS
//   EDGE_ACL_REFRESH_SECONDS  how often the edge re-reads the trunks' addresses from DATABASE_URL for
//                      its trunk ACL (default 5)
//   EDGE_SHM_MB        Kamailio's shared memory, where every transaction in flight lives (default 512)
// Everything else (DATABASE_URL, REDIS_URL, RTPENGINE_NG, ADMIN_API_KEY…) passes through to the nodes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startEdge } from './edge.mjs';
import { dataDir, projectRoot, settings } from './services.mjs';

const log = (msg) => process.stdout.write(`[cluster] ${msg}\n`);
const clusterDir = process.env.CLUSTER_DIR ?? path.join(dataDir, 'cluster');
export const clusterPidsFile = path.join(clusterDir, 'pids.json');

const count = Number(process.env.CLUSTER_NODES ?? 2);
const edgeHost = process.env.SIP_HOST ?? '127.0.0.1';
const edgePort = Number(process.env.SIP_PORT ?? 5060);
const httpBase = Number(process.env.HTTP_PORT ?? 8080);
if (!Number.isInteger(count) || count < 1 || count > 32) throw new Error('CLUSTER_NODES must be 1..32');

const local = Array.from({ length: count }, (_, i) => ({ host: edgeHost, port: edgePort + 10 + i, httpPort: httpBase + i }));
const remote = (process.env.CLUSTER_REMOTE_NODES ?? '')
  .split(',')
  .map((entry) => entry.trim())
  .filter(Boolean)
  .map((entry) => {
    const [host, port] = entry.split(':');
    return { host, port: Number(port ?? 5060) };
  });

fs.mkdirSync(clusterDir, { recursive: true });
const pids = { nodes: [], edge: undefined };
for (const [i, node] of local.entries()) {
  const nodeDir = path.join(clusterDir, `node-${i}`);
  fs.mkdirSync(nodeDir, { recursive: true });
  const out = fs.openSync(path.join(nodeDir, 'server.log'), 'a');
  const child = spawn(path.join(projectRoot, 'node_modules/.bin/tsx'), ['server/main.ts'], {
    cwd: projectRoot,
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      SIP_HOST: node.host,
      SIP_PORT: String(node.port),
      HTTP_PORT: String(node.httpPort),
      // Own pid file, so its own spool and TTS cache directory next to it.
      PID_FILE: path.join(nodeDir, 'server.pid'),
      SIP_TRUSTED_EDGE: [edgeHost, process.env.SIP_TRUSTED_EDGE].filter(Boolean).join(','),
    },
  });
  child.unref();
  pids.nodes.push(child.pid);
  log(`node ${i}: sip ${node.host}:${node.port}, http ${node.httpPort}, pid ${child.pid}, log ${path.relative(projectRoot, nodeDir)}/server.log`);
}
// Nodes apply the migrations before they listen, and the edge's trunk ACL reads a view they create:
// on a fresh database the edge must wait for the first node.
async function firstNodeListening(timeoutMs = 90_000) {
  const httpHost = process.env.HTTP_HOST ?? '127.0.0.1';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const node of local) {
      const answered = await fetch(`http://${httpHost}:${node.httpPort}/healthz`).catch(() => undefined);
      if (answered) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no node answered HTTP within ${timeoutMs / 1000} s; see the node logs in ${clusterDir}`);
}
await firstNodeListening();
const edge = startEdge({
  dir: path.join(clusterDir, 'edge'),
  host: edgeHost,
  port: edgePort,
  nodes: [...local, ...remote],
  ...(process.env.EDGE_PIKE_DENSITY ? { pikeDensity: Number(process.env.EDGE_PIKE_DENSITY) } : {}),
  ...(process.env.EDGE_SHM_MB ? { shmMb: Number(process.env.EDGE_SHM_MB) } : {}),
  // The same database the nodes use (server/config.ts has the same default).
  trunkAcl: {
    databaseUrl:
      process.env.DATABASE_URL ?? `postgres://${settings.postgres.user}@${settings.postgres.host}:${settings.postgres.port}/${settings.postgres.database}`,
    refreshSeconds: Number(process.env.EDGE_ACL_REFRESH_SECONDS ?? 5),
  },
  detached: true,
  logFile: path.join(clusterDir, 'edge', 'kamailio.log'),
});
edge.unref();
pids.edge = edge.pid;
fs.writeFileSync(clusterPidsFile, JSON.stringify(pids));
log(`edge: kamailio on ${edgeHost}:${edgePort} (pid ${edge.pid}) over ${local.length + remote.length} node(s)`);
