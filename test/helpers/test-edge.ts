/**
 * Kamailio as the SIP edge for the cluster tests, started as production starts it
 * (infra/cluster.mjs: the trunk ACL first pass on, reading the harness's schema).
 *
 * @example
 *   const edge = await startTestEdge(h, { ip: '127.0.15.1', nodePorts: nodes.map((n) => n.sipPort), name: 'edge' });
 *   // SIPp → `${edge.ip}:${edge.port}`; afterAll: await stopEdge(edge.process)
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEdge, stopEdge } from '../../infra/edge.mjs';
import { type CallServer, type CallServerOptions, startCallServer } from './call-server.js';
import type { Harness } from './harness.js';
import { freePort } from './ports.js';

export interface TestEdge {
  process: ChildProcess;
  ip: string;
  port: number;
  /** Kamailio's own log (its refusals are written there). */
  logFile: string;
}

export async function startTestEdge(h: Harness, o: { ip: string; nodePorts: number[]; name: string; aclRefreshSeconds?: number }): Promise<TestEdge> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${o.name}-`));
  const port = await freePort(o.ip);
  const logFile = path.join(dir, 'kamailio.log');
  const process = startEdge({
    dir,
    host: o.ip,
    port,
    nodes: o.nodePorts.map((nodePort) => ({ host: '127.0.0.1', port: nodePort })),
    trunkAcl: { databaseUrl: h.config.database.url, schema: h.schema, ...(o.aclRefreshSeconds ? { refreshSeconds: o.aclRefreshSeconds } : {}) },
    logFile,
  });
  // The first OPTIONS round marks the nodes up.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  return { process, ip: o.ip, port, logFile };
}

/** Call-path nodes behind an edge, as the cluster tests run them. */
export interface EdgeCluster {
  /** The nodes (a test that stops one may take it out; `stop` ends those left). */
  nodes: CallServer[];
  edge: TestEdge;
  stop(): Promise<void>;
}

/**
 * `count` call-path nodes (2 by default) that trust the edge at `ip`, the numbers `provision` sets
 * up on them (before the edge first reads the trunks; every node's routing is refreshed after), then
 * the edge in front of them.
 */
export async function startEdgeCluster(
  h: Harness,
  o: {
    ip: string;
    name: string;
    node: Omit<CallServerOptions, 'sipTrustedEdges'>;
    provision: (nodes: CallServer[]) => Promise<void>;
    count?: number;
    aclRefreshSeconds?: number;
  },
): Promise<EdgeCluster> {
  const nodes: CallServer[] = [];
  for (let i = 0; i < (o.count ?? 2); i++) nodes.push(await startCallServer(h, { ...o.node, sipTrustedEdges: [o.ip] }));
  await o.provision(nodes);
  for (const node of nodes) await node.routing.refresh();
  const edge = await startTestEdge(h, {
    ip: o.ip,
    nodePorts: nodes.map((node) => node.sipPort),
    name: o.name,
    ...(o.aclRefreshSeconds ? { aclRefreshSeconds: o.aclRefreshSeconds } : {}),
  });
  return {
    nodes,
    edge,
    async stop() {
      await stopEdge(edge.process);
      for (const node of nodes) await node.stop().catch(() => undefined);
    },
  };
}
