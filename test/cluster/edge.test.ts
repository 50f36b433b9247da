// Kamailio as the SIP edge in front of two B2BUA nodes (infra/kamailio): calls are spread over
// the nodes and stay on theirs for BYE (Record-Route), a node that goes away is skipped once the
// OPTIONS prober notices, and malformed requests are refused at the edge.
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { type EdgeCluster, startEdgeCluster } from '../helpers/test-edge.js';

const EDGE_IP = '127.0.15.1';
const CALLER_IP = '127.0.15.50';
const AGENT_IP = '127.0.15.51';
const NUMBER = '+74952215001';

let h: Harness;
let cluster: EdgeCluster;
let edge: ChildProcess;
let edgePort: number;
let agentPort: number;
let nodes: CallServer[];

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  cluster = await startEdgeCluster(h, {
    ip: EDGE_IP,
    name: 'edge',
    node: {
      convertRecordings: false,
      dialplans: { plain: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
    },
    provision: async ([first]) => {
      const trunk = await first!.app.inject({
        method: 'POST',
        url: '/v1/trunks',
        headers: h.adminHeaders,
        payload: { name: 'carrier', addresses: [`${CALLER_IP}/32`] },
      });
      const res = await first!.app.inject({
        method: 'POST',
        url: '/v1/numbers',
        headers: h.adminHeaders,
        payload: { number: NUMBER, trunkId: trunk.json().id, dialplan: 'plain' },
      });
      expect(res.statusCode, res.body).toBe(201);
    },
  });
  nodes = cluster.nodes;
  edge = cluster.edge.process;
  edgePort = cluster.edge.port;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await h?.close();
});

async function callsThroughEdge(count: number, rate: number) {
  const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: count, timeoutSeconds: 60 });
  const caller = await runSipp({
    scenario: scenarioPath('uac-record-route.xml'),
    ip: CALLER_IP,
    target: `${EDGE_IP}:${edgePort}`,
    service: NUMBER.slice(1),
    calls: count,
    rate,
    // One agent, busy while on a call: short calls so they rarely overlap.
    extraArgs: ['-d', '100'],
    timeoutSeconds: 60,
  });
  agent.stop();
  return caller;
}

describe('the SIP edge', () => {
  it('spreads calls over both nodes; BYE reaches the owning node through the edge, and calls are recorded with the trunk as caller source', async () => {
    const before = new Set(nodes.flatMap((node) => node.ended.map((record) => record.id)));
    const caller = await callsThroughEdge(4, 3);
    expect(caller.code, caller.errors).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const perNode = nodes.map((node) => node.ended.filter((record) => !before.has(record.id) && record.trackingNumber === NUMBER));
    expect(perNode.map((records) => records.length)).toEqual([2, 2]);
    for (const record of perNode.flat()) {
      expect(record).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
    }
  }, 60_000);

  it('has shared memory for the transactions of hundreds of calls a second (Kamailio’s 64 MB default ran out at 600)', () => {
    // Kamailio maps its shared memory at start: it shows in the main process's address space.
    const status = fs.readFileSync(`/proc/${edge.pid}/status`, 'utf8');
    const vmKb = Number(/^VmSize:\s+(\d+) kB/m.exec(status)?.[1]);
    expect(vmKb).toBeGreaterThan(512 * 1024);
  });

  it('refuses a malformed request with a 4xx from the edge itself', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, CALLER_IP, resolve));
    const { port } = socket.address();
    const reply = new Promise<string>((resolve) => socket.once('message', (message) => resolve(message.toString())));
    const request = [
      `INVITE sip:${NUMBER.slice(1)}@${EDGE_IP}:${edgePort} SIP/2.0`,
      `Via: SIP/2.0/UDP ${CALLER_IP}:${port};branch=z9hG4bK-malformed-1;rport`,
      'Max-Forwards: 70',
      `From: <sip:79161234567@${CALLER_IP}>;tag=m1`,
      `To: <sip:${NUMBER.slice(1)}@${EDGE_IP}>`,
      'Call-ID: malformed-1@edge-test',
      'CSeq: abc INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    socket.send(request, edgePort, EDGE_IP);
    const text = await Promise.race([reply, new Promise<string>((resolve) => setTimeout(() => resolve('no reply'), 3_000))]);
    socket.close();
    expect(text).toMatch(/^SIP\/2\.0 4\d\d /);
    expect(text).toMatch(/^Server: kamailio/im);
    for (const node of nodes) expect(node.b2bua.liveSipCallIds()).not.toContain('malformed-1@edge-test');
  });

  it('skips a node that went away once the prober noticed (~2 s): no failed new calls', async () => {
    const gone = nodes.pop()!;
    await gone.stop();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const before = new Set(nodes[0]!.ended.map((record) => record.id));
    const caller = await callsThroughEdge(15, 5);
    expect(caller.code, caller.errors).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(nodes[0]!.ended.filter((record) => !before.has(record.id) && record.trackingNumber === NUMBER)).toHaveLength(15);
  }, 60_000);
});
