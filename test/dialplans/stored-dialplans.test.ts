// Call flows managed by API: create (a bad one names the path), bind, update (the next call uses the
// new version), roll back, and the rules around YAML files, deletion and roles; calls over real SIP.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, type RunningSipp, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.18.20';
const IPS = { first: '127.0.18.21', second: '127.0.18.22' } as const;
const NUMBER = '+74953337701';
let h: Harness;
let server: CallServer;
let tone: string;
const agents: RunningSipp[] = [];
const ports: Record<string, number> = {};
const uri = (who: keyof typeof IPS) => `sip:${who}@${IPS[who]}:${ports[who]}`;
const flowTo = (who: keyof typeof IPS) => ({ steps: [{ forward: { targets: [uri(who)], ringSeconds: 5 } }] });

beforeAll(async () => {
  h = await createHarness();
  for (const [who, ip] of Object.entries(IPS)) ports[who] = await freePort(ip);
  server = await startCallServer(h, { dialplans: { filed: { steps: [{ hangup: {} }] } } });
  for (const who of Object.keys(IPS) as (keyof typeof IPS)[])
    agents.push(await startSipp({ scenario: 'uas', ip: IPS[who], port: ports[who]!, rtpEcho: true, calls: 10, timeoutSeconds: 120 }));
  tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
}, 60_000);
afterAll(async () => {
  for (const agent of agents) agent.stop();
  await server?.stop();
  await h?.close();
});

const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, headers = h.adminHeaders) =>
  server.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
async function callAnsweredBy(n: number): Promise<string | null> {
  const result = await runSipp({
    scenario: scenarioPath('uac-tone-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: NUMBER.slice(1),
    vars: { TONE: tone, TALK_MS: '300' },
  });
  expect(result.code, result.errors).toBe(0);
  for (let i = 0; i < 100 && server.ended.length < n; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return server.ended[n - 1]!.answeredBy;
}

it('creates, binds, updates and rolls back a flow; each call uses the newest version', async () => {
  const bad = await api('POST', '/v1/dialplans', { name: 'sales', definition: { steps: [{ forward: { targets: ['sip:*@nowhere'] } }] } });
  expect(bad.statusCode).toBe(400);
  expect(bad.json().message).toMatch(/^steps\[0\]\.forward\.targets\[0\]: not a target/);
  const badYaml = await api('POST', '/v1/dialplans', { name: 'sales', definition: 'steps:\n  - forward: [' });
  expect(badYaml.statusCode).toBe(400);
  expect(badYaml.json().message).toMatch(/^definition: not valid YAML/);

  const created = await api('POST', '/v1/dialplans', { name: 'sales', definition: flowTo('first'), note: 'first cut' });
  expect(created.statusCode, created.body).toBe(201);
  expect(created.json()).toMatchObject({ name: 'sales', version: 1 });
  expect((await api('POST', '/v1/dialplans', { name: 'sales', definition: flowTo('first') })).statusCode).toBe(409);
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'sales' });
  expect(await callAnsweredBy(1)).toBe(uri('first'));

  // A new version, as YAML text: the next call rings the second agent.
  const yaml = `steps:\n  - forward:\n      targets: ["${uri('second')}"]\n      ringSeconds: 5\n`;
  const updated = await api('PUT', '/v1/dialplans/sales', { definition: yaml });
  expect(updated.statusCode, updated.body).toBe(200);
  expect(updated.json().version).toBe(2);
  expect(await callAnsweredBy(2)).toBe(uri('second'));

  const rolledBack = await api('POST', '/v1/dialplans/sales/rollback', { version: 1 });
  expect(rolledBack.json()).toMatchObject({ version: 3 });
  expect(await callAnsweredBy(3)).toBe(uri('first'));

  const versions = await api('GET', '/v1/dialplans/sales/versions', undefined, await h.headersFor('manager'));
  expect(versions.json().items.map((v: { version: number; note: string | null }) => [v.version, v.note])).toEqual([
    [3, 'rollback to version 1'],
    [2, null],
    [1, 'first cut'],
  ]);
  const list = await api('GET', '/v1/dialplans');
  expect(
    list.json().items.map((p: { name: string; source: string; readOnly: boolean; version: number | null }) => [p.name, p.source, p.readOnly, p.version]),
  ).toEqual([
    ['filed', 'file', true, null],
    ['sales', 'stored', false, 3],
  ]);
  expect((await api('GET', '/v1/dialplans/sales')).json().steps[0].forward.targets).toEqual([uri('first')]);
});

it('keeps YAML plans read-only, refuses deleting a bound flow, and lets only admins write', async () => {
  const clash = await api('POST', '/v1/dialplans', { name: 'filed', definition: flowTo('first') });
  expect(clash.statusCode).toBe(409);
  expect(clash.json().message).toMatch(/read-only/);
  expect((await api('PUT', '/v1/dialplans/nothing', { definition: flowTo('first') })).statusCode).toBe(404);
  const bound = await api('DELETE', '/v1/dialplans/sales');
  expect(bound.statusCode).toBe(409);
  expect(bound.json().message).toMatch(/number \+74953337701/);
  const manager = await h.headersFor('manager');
  expect((await api('PUT', '/v1/dialplans/sales', { definition: flowTo('second') }, manager)).statusCode).toBe(403);
  expect((await api('POST', '/v1/dialplans/validate', { name: 'x', definition: flowTo('second') }, manager)).statusCode).toBe(200);

  const spare = await api('POST', '/v1/dialplans', { name: 'spare', definition: flowTo('second') });
  expect(spare.statusCode).toBe(201);
  expect((await api('DELETE', '/v1/dialplans/spare')).statusCode).toBe(204);
  expect((await api('GET', '/v1/dialplans/spare/versions')).statusCode).toBe(404);
});
