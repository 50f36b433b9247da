// Who gets past the SIP edge (infra/kamailio), and phones behind it: the trunk ACL first pass
// refuses at the edge an INVITE that every node would refuse (no trunk address, no credentials, no
// phone registered from there, no digest trunk), reads trunks added through the API within its
// refresh, and a phone registers through the edge and is rung through it (RFC 3327 Path).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { SipRequest } from '../../server/sip/sip-types.js';
import type { CallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { rawRequest, sendRawSipForResponse } from '../helpers/sip-raw.js';
import { registerPhone, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { type EdgeCluster, startEdgeCluster } from '../helpers/test-edge.js';

const EDGE_IP = '127.0.15.3';
const TRUNK_IP = '127.0.15.54';
const AGENT_IP = '127.0.15.55';
const STRANGER_IP = '127.0.15.56';
const NEW_TRUNK_IP = '127.0.15.57';
const PHONE_IP = '127.0.15.58';
const NUMBERS = { toAgent: '+74952215003', toPhone: '+74952215004', newTrunk: '+74952215005' };
const UNKNOWN_NUMBER = '74950000000';
const REFRESH_SECONDS = 1;
/** The edge re-reads the trunks every REFRESH_SECONDS; the nodes are refreshed by hand. */
const REFRESH_BOUND_MS = REFRESH_SECONDS * 1000 + 3_000;

let h: Harness;
let cluster: EdgeCluster;
let edgePort: number;
let agentPort: number;
let phonePort: number;
let nodes: CallServer[] = [];
let edgeLog: string;
/** The nodes' SIP answers (replies and refusals), watched: a request the edge refused must get none. */
const answers: Array<MockInstance<(request: SipRequest, ...rest: never[]) => unknown>> = [];
const nodesSaw = (callId: string) => answers.some((spy) => spy.mock.calls.some(([request]) => request.headers['call-id'] === callId));

const api = (method: 'POST' | 'GET' | 'DELETE', url: string, payload?: object) =>
  nodes[0]!.app.inject({ method, url, headers: h.adminHeaders, ...(payload ? { payload } : {}) });

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  phonePort = await freePort(PHONE_IP);
  cluster = await startEdgeCluster(h, {
    ip: EDGE_IP,
    name: 'edge-access',
    aclRefreshSeconds: REFRESH_SECONDS,
    node: {
      convertRecordings: false,
      // No OPTIONS pings to the SIPp phone while the file runs (a SIPp uas fails on one).
      keepaliveMs: 3_600_000,
      dialplans: {
        plain: { record: false, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] },
        desk: { record: false, steps: [{ forward: { targets: ['extension:201'], ringSeconds: 5 } }] },
      },
    },
    provision: async (started) => {
      nodes = started;
      for (const node of nodes) answers.push(vi.spyOn(node.b2bua.stack, 'reply'), vi.spyOn(node.b2bua.stack, 'replyError'));
      const { trunkId } = await nodes[0]!.provisionNumber({ number: NUMBERS.toAgent, trunkAddresses: [`${TRUNK_IP}/32`], dialplan: 'plain' });
      const toPhone = await api('POST', '/v1/numbers', { number: NUMBERS.toPhone, trunkId, dialplan: 'desk' });
      expect(toPhone.statusCode, toPhone.body).toBe(201);
    },
  });
  edgePort = cluster.edge.port;
  edgeLog = cluster.edge.logFile;
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await h?.close();
});

interface Answer {
  status: number;
  /** Kamailio's own replies carry its Server header; a node's, relayed, do not. */
  fromEdge: boolean;
  callId: string;
}

/** An out-of-dialog INVITE from `ip` to the edge, with the headers given; resolves with the final answer. */
async function inviteThroughEdge(ip: string, user: string, options: { headers?: string[]; fromUser?: string } = {}): Promise<Answer> {
  const callId = `${crypto.randomUUID()}@${ip}`;
  const text = await sendRawSipForResponse(
    ip,
    edgePort,
    (local) => rawRequest('INVITE', local, { user, port: edgePort, callId, sdp: true, ...options }),
    5_000,
    EDGE_IP,
  );
  return { status: Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]), fromEdge: /^Server: kamailio/im.test(text), callId };
}

/** Asks until `done` says yes or `boundMs` passes; returns the last answer and how long it took. */
async function waitForAnswer(ask: () => Promise<Answer>, done: (answer: Answer) => boolean, boundMs: number) {
  const started = Date.now();
  let answer = await ask();
  while (!done(answer) && Date.now() - started < boundMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    answer = await ask();
  }
  return { answer, ms: Date.now() - started };
}

async function callThroughEdge(from: string, number: string) {
  return runSipp({
    scenario: scenarioPath('uac-record-route.xml'),
    ip: from,
    target: `${EDGE_IP}:${edgePort}`,
    service: number.slice(1),
    extraArgs: ['-d', '300'],
    timeoutSeconds: 30,
  });
}

describe('the trunk ACL at the edge', () => {
  it('refuses an INVITE from no trunk without credentials with 403 from the edge itself: no node sees it', async () => {
    const refused = await inviteThroughEdge(STRANGER_IP, NUMBERS.toAgent.slice(1));
    expect(refused).toMatchObject({ status: 403, fromEdge: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(nodesSaw(refused.callId)).toBe(false);
    expect(fs.readFileSync(edgeLog, 'utf8')).toContain(`INVITE from ${STRANGER_IP}`);

    // Credentials are for a node to judge (a phone's, a digest trunk's): the edge lets them through.
    const credentials = 'Proxy-Authorization: Digest username="nobody", realm="x", nonce="n", uri="sip:x", response="00"';
    const judged = await inviteThroughEdge(STRANGER_IP, NUMBERS.toAgent.slice(1), { headers: [credentials] });
    expect(judged).toMatchObject({ status: 403, fromEdge: false });
    expect(nodesSaw(judged.callId)).toBe(true);
  });

  it("still connects a trunk's call", async () => {
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, timeoutSeconds: 30 });
    const caller = await callThroughEdge(TRUNK_IP, NUMBERS.toAgent);
    agent.stop();
    expect(caller.code, caller.errors).toBe(0);
    const record = await Promise.any(nodes.map((node) => node.waitForCall((r) => r.trackingNumber === NUMBERS.toAgent, 5_000)));
    expect(record).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
  }, 40_000);

  it('admits a trunk added through the API once the edge has re-read the trunks', async () => {
    expect(await inviteThroughEdge(NEW_TRUNK_IP, UNKNOWN_NUMBER)).toMatchObject({ status: 403, fromEdge: true });
    const trunk = await api('POST', '/v1/trunks', { name: 'new carrier', addresses: [`${NEW_TRUNK_IP}/32`] });
    expect(trunk.statusCode, trunk.body).toBe(201);
    const number = await api('POST', '/v1/numbers', { number: NUMBERS.newTrunk, trunkId: trunk.json().id, dialplan: 'plain' });
    expect(number.statusCode, number.body).toBe(201);
    for (const node of nodes) await node.routing.refresh();

    // An unknown number: once past the edge, a node answers 404 (and no call starts).
    const { answer, ms } = await waitForAnswer(
      () => inviteThroughEdge(NEW_TRUNK_IP, UNKNOWN_NUMBER),
      (a) => !a.fromEdge,
      REFRESH_BOUND_MS,
    );
    expect(answer).toMatchObject({ status: 404, fromEdge: false });
    expect(ms).toBeLessThan(REFRESH_BOUND_MS);

    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, timeoutSeconds: 30 });
    const caller = await callThroughEdge(NEW_TRUNK_IP, NUMBERS.newTrunk);
    agent.stop();
    expect(caller.code, caller.errors).toBe(0);
  }, 40_000);
});

describe('phones through the edge', () => {
  it('registers a phone through the edge, rings it through the edge, lets its own calls be challenged, and un-registers it', async () => {
    const created = await api('POST', '/v1/extensions', { extension: '201', name: 'Galina' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, sipUsername, sipPassword } = created.json();
    const credentials = { username: sipUsername, password: sipPassword, contactPort: phonePort };
    const ownCall = () => inviteThroughEdge(PHONE_IP, '79161234567', { fromUser: sipUsername });
    // Not registered yet: the edge cannot tell the phone from a stranger.
    expect(await ownCall()).toMatchObject({ status: 403, fromEdge: true });

    const registered = await registerPhone({ ip: PHONE_IP, target: `${EDGE_IP}:${edgePort}`, ...credentials });
    expect(registered.code, registered.errors).toBe(0);
    const registrations = (await api('GET', `/v1/extensions/${id}/registrations`)).json().items;
    expect(registrations).toEqual([expect.objectContaining({ contact: `sip:${sipUsername}@${PHONE_IP}:${phonePort}` })]);

    const phone = await startSipp({
      scenario: scenarioPath('uas-answer-via-edge-expect-bye.xml'),
      ip: PHONE_IP,
      port: phonePort,
      vars: { EDGE: EDGE_IP.replaceAll('.', '\\.') },
      timeoutSeconds: 30,
    });
    const caller = await callThroughEdge(TRUNK_IP, NUMBERS.toPhone);
    expect(caller.code, caller.errors).toBe(0);
    const rung = await phone.done;
    expect(rung.code, rung.errors).toBe(0);
    const record = await Promise.any(nodes.map((node) => node.waitForCall((r) => r.trackingNumber === NUMBERS.toPhone, 5_000)));
    expect(record).toMatchObject({ disposition: 'answered', answeredTarget: 'extension:201' });

    // Registered through the edge: its own call is the node's to challenge, not the edge's to refuse.
    expect(await ownCall()).toMatchObject({ status: 407, fromEdge: false });

    const unregistered = await registerPhone({ ip: PHONE_IP, target: `${EDGE_IP}:${edgePort}`, ...credentials, unregister: true });
    expect(unregistered.code, unregistered.errors).toBe(0);
    expect((await api('GET', `/v1/extensions/${id}/registrations`)).json().items).toEqual([]);
  }, 60_000);
});

describe('digest trunks and the edge', () => {
  it('lets unauthenticated INVITEs through to be challenged while some trunk authenticates by digest, and refuses them again once it is gone', async () => {
    const trunk = await api('POST', '/v1/trunks', { name: 'digest carrier', username: 'edge-digest-carrier', password: 'carrier-secret-1' });
    expect(trunk.statusCode, trunk.body).toBe(201);
    for (const node of nodes) await node.routing.refresh();
    const challenged = await waitForAnswer(
      () => inviteThroughEdge(STRANGER_IP, UNKNOWN_NUMBER),
      (a) => !a.fromEdge,
      REFRESH_BOUND_MS,
    );
    expect(challenged.answer).toMatchObject({ status: 407, fromEdge: false });

    expect((await api('DELETE', `/v1/trunks/${trunk.json().id}`)).statusCode).toBe(204);
    for (const node of nodes) await node.routing.refresh();
    const refused = await waitForAnswer(
      () => inviteThroughEdge(STRANGER_IP, UNKNOWN_NUMBER),
      (a) => a.fromEdge,
      REFRESH_BOUND_MS,
    );
    expect(refused.answer).toMatchObject({ status: 403, fromEdge: true });
  }, 30_000);
});
