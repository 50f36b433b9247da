// Two nodes behind the edge, each carrying at most one call (SIP_MAX_CALLS=1): while one call holds
// a node, the edge takes "503 Node At Capacity" from it as a cue to try the other node (round robin
// would otherwise send every other call there), and only when both are full does the caller get 503.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { type EdgeCluster, startEdgeCluster } from '../helpers/test-edge.js';

const EDGE_IP = '127.0.17.1';
const CALLER_IP = '127.0.17.50';
const AGENT_IP = '127.0.17.51';
const NUMBER = '+74952217001';

let h: Harness;
let cluster: EdgeCluster;
let nodes: CallServer[];
let edgePort: number;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  cluster = await startEdgeCluster(h, {
    ip: EDGE_IP,
    name: 'edge-capacity',
    node: {
      convertRecordings: false,
      maxCalls: 1,
      dialplans: { plain: { record: false, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
    },
    provision: async ([first]) => {
      await first!.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'plain' });
    },
  });
  nodes = cluster.nodes;
  edgePort = cluster.edge.port;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await h?.close();
});

const liveCalls = () => nodes.reduce((sum, node) => sum + node.b2bua.liveCalls(), 0);
const callThroughEdge = (o: { talkMs: number }) =>
  runSipp({
    scenario: scenarioPath('uac-record-route.xml'),
    ip: CALLER_IP,
    target: `${EDGE_IP}:${edgePort}`,
    service: NUMBER.slice(1),
    extraArgs: ['-d', String(o.talkMs)],
    timeoutSeconds: 30,
  });

it('sends the calls a full node refuses to the node with room, and 503s the caller only when every node is full', async () => {
  const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: 10, timeoutSeconds: 60 });
  try {
    const held = callThroughEdge({ talkMs: 6_000 });
    await expect.poll(liveCalls, { timeout: 5_000, interval: 25 }).toBe(1);
    // Round robin sends one of any two calls to the full node: each must still be answered.
    for (let i = 0; i < 3; i++) {
      const short = await callThroughEdge({ talkMs: 200 });
      expect(short.code, `call ${i + 1} while one node was full: ${short.errors}`).toBe(0);
      // The node frees its slot a moment after the BYE (media released, record handed on).
      await expect.poll(liveCalls, { timeout: 5_000, interval: 25 }).toBe(1);
    }
    // Both nodes full: the caller is refused. A proxy does not pass a 503 on (RFC 3261 16.7): the edge says 500.
    const other = callThroughEdge({ talkMs: 3_000 });
    await expect.poll(liveCalls, { timeout: 5_000, interval: 25 }).toBe(2);
    const refused = await runSipp({
      scenario: scenarioPath('uac-expect-status.xml'),
      vars: { STATUS: '500' },
      ip: CALLER_IP,
      target: `${EDGE_IP}:${edgePort}`,
      service: NUMBER.slice(1),
      timeoutSeconds: 15,
    });
    expect(refused.code, refused.errors).toBe(0);
    expect((await held).code).toBe(0);
    expect((await other).code).toBe(0);
  } finally {
    agent.stop();
  }
}, 60_000);
