#!/usr/bin/env node
// `npm run stop`: stops what `npm start` started (server first, then its services).
import fs from 'node:fs';
import path from 'node:path';
import { dataDir, stopPostgres, stopRedis, stopRtpengine } from './services.mjs';

const serverPid = path.join(dataDir, 'server.pid');
if (fs.existsSync(serverPid)) {
  const pid = Number(fs.readFileSync(serverPid, 'utf8').trim());
  try {
    process.kill(pid, 'SIGTERM');
    process.stdout.write(`[infra] stopping server ${pid}\n`);
  } catch {
    /* not running */
  }
  fs.rmSync(serverPid, { force: true });
}
// `npm run start:cluster`: the edge and its nodes (infra/cluster.mjs).
const clusterPids = path.join(dataDir, 'cluster', 'pids.json');
if (fs.existsSync(clusterPids)) {
  const { nodes, edge } = JSON.parse(fs.readFileSync(clusterPids, 'utf8'));
  for (const pid of [edge, ...nodes].filter(Boolean)) {
    try {
      process.kill(pid, 'SIGTERM');
      process.stdout.write(`[infra] stopping cluster process ${pid}\n`);
    } catch {
      /* not running */
    }
  }
  fs.rmSync(clusterPids, { force: true });
}
stopRtpengine();
stopRedis();
stopPostgres();
