// Ring groups by API (`group:<name>` in a dialplan) over real SIP: longest-idle order across calls,
// busy members skipped, and the API's validation and roles.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, type RunningSipp, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.17.20';
const IPS = { a: '127.0.17.21', b: '127.0.17.22', c: '127.0.17.23' } as const;
const NUMBERS = { sales: '+74953336601', support: '+74953336602', sticky: '+74953336603', ads: '+74953336604', flyer: '+74953336605' } as const;
let h: Harness;
let server: CallServer;
let tone: string;
const agents: RunningSipp[] = [];
const ports: Record<string, number> = {};
const uri = (who: keyof typeof IPS) => `sip:${who}@${IPS[who]}:${ports[who]}`;

beforeAll(async () => {
  h = await createHarness();
  for (const [who, ip] of Object.entries(IPS)) ports[who] = await freePort(ip);
  server = await startCallServer(h, {
    dialplans: {
      sales: { steps: [{ forward: { targets: ['group:sales'] } }] },
      support: { steps: [{ forward: { targets: ['group:support'] } }] },
      // Responsive routing: a repeat caller goes back to the agent who answered them last.
      sticky: {
        steps: [
          { route: { rules: [{ when: { caller: 'repeat' }, steps: [{ forward: { targets: ['last-agent'], ringSeconds: 5 } }] }] } },
          { forward: { targets: ['group:turns'] } },
        ],
      },
      // Responsive routing by source: paid-search callers reach the search sales desk, everyone else the front desk.
      bysource: {
        steps: [
          { route: { rules: [{ when: { medium: ['cpc', 'ppc'] }, steps: [{ forward: { targets: ['group:search-sales'], ringSeconds: 5 } }] }] } },
          { forward: { targets: [uri('c')], ringSeconds: 5 } },
        ],
      },
    },
  });
  const trunk = await server.provisionNumber({ number: NUMBERS.sales, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'sales' });
  const res = await server.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: NUMBERS.support, trunkId: trunk.trunkId, dialplan: 'support' },
  });
  expect(res.statusCode, res.body).toBe(201);
  const sticky = await server.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: NUMBERS.sticky, trunkId: trunk.trunkId, dialplan: 'sticky' },
  });
  expect(sticky.statusCode, sticky.body).toBe(201);
  for (const number of [NUMBERS.ads, NUMBERS.flyer]) {
    const bound = await server.app.inject({
      method: 'POST',
      url: '/v1/numbers',
      headers: h.adminHeaders,
      payload: { number, trunkId: trunk.trunkId, dialplan: 'bysource' },
    });
    expect(bound.statusCode, bound.body).toBe(201);
  }
  // The ads number belongs to a paid-search source; the flyer number to an offline one.
  for (const [name, kind, channel, medium, number] of [
    ['Search ads', 'online', 'yandex_direct', 'cpc', NUMBERS.ads],
    ['Flyer', 'offline', 'flyer', 'print', NUMBERS.flyer],
  ] as const) {
    const source = await server.app.inject({
      method: 'POST',
      url: '/v1/sources',
      headers: h.adminHeaders,
      payload: { name, kind, channel, medium, numbers: [number] },
    });
    expect(source.statusCode, source.body).toBe(201);
  }
  await server.routing.refresh();
  for (const [name, strategy, members] of [
    ['sales', 'longest-idle', [uri('a'), uri('b'), uri('c')]],
    ['support', 'sequential', [uri('a'), uri('b')]],
    ['turns', 'round-robin', [uri('a'), uri('b')]],
    ['search-sales', 'simultaneous', [uri('b')]],
  ] as const) {
    const group = await server.app.inject({ method: 'POST', url: '/v1/groups', headers: h.adminHeaders, payload: { name, strategy, ringSeconds: 5, members } });
    expect(group.statusCode, group.body).toBe(201);
  }
  for (const who of Object.keys(IPS) as (keyof typeof IPS)[])
    agents.push(await startSipp({ scenario: 'uas', ip: IPS[who], port: ports[who]!, rtpEcho: true, calls: 20, timeoutSeconds: 120 }));
  tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
}, 60_000);
afterAll(async () => {
  for (const agent of agents) agent.stop();
  await server?.stop();
  await h?.close();
});

/** uac-tone-bye.xml calling from another number (the scenario's own is 79161234567). */
function scenarioFrom(callerNumber: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scenario-')), 'uac.xml');
  fs.writeFileSync(file, fs.readFileSync(scenarioPath('uac-tone-bye.xml'), 'utf8').replaceAll('79161234567', callerNumber));
  return file;
}
const call = (number: string, talkMs: number, scenario = scenarioPath('uac-tone-bye.xml')) =>
  runSipp({
    scenario,
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: number.slice(1),
    vars: { TONE: tone, TALK_MS: String(talkMs) },
  });
const answeredBy = async (number: string, nth: number) => {
  for (let i = 0; i < 100; i++) {
    const records = server.ended.filter((r) => r.trackingNumber === number);
    if (records.length >= nth) return records[nth - 1]!.answeredBy;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`call ${nth} to ${number} was not recorded`);
};

describe('ring groups from /v1/groups', () => {
  it('longest-idle: the member whose last call ended longest ago rings first, over several calls', async () => {
    const order: (string | null)[] = [];
    for (let n = 1; n <= 4; n++) {
      const result = await call(NUMBERS.sales, 300);
      expect(result.code, result.errors).toBe(0);
      order.push(await answeredBy(NUMBERS.sales, n));
    }
    // Nobody had a call: list order. Then each next is the one idle longest: b, c, and a again.
    expect(order).toEqual([uri('a'), uri('b'), uri('c'), uri('a')]);
  });

  it('skips a member who is on another call', async () => {
    const long = call(NUMBERS.support, 4_000);
    for (let i = 0; i < 50 && server.b2bua.liveCalls() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // answered by a and talking
    const second = await call(NUMBERS.support, 300);
    expect(second.code, second.errors).toBe(0);
    expect((await long).code).toBe(0);
    const records = server.ended.filter((r) => r.trackingNumber === NUMBERS.support);
    const byStart = [...records].sort((x, y) => x.startedAt.localeCompare(y.startedAt));
    expect(byStart.map((r) => r.answeredBy)).toEqual([uri('a'), uri('b')]);
  });

  it('route step: a repeat caller reaches the agent who answered them last, not the next in turn', async () => {
    const loyal = scenarioFrom('79990001111');
    const stranger = scenarioFrom('79990002222');
    for (const [n, scenario] of [loyal, loyal, stranger].entries()) {
      const result = await call(NUMBERS.sticky, 300, scenario);
      expect(result.code, result.errors).toBe(0);
      await answeredBy(NUMBERS.sticky, n + 1); // stored before the next call asks who answered
    }
    const records = server.ended.filter((r) => r.trackingNumber === NUMBERS.sticky);
    expect(records.map((r) => [r.caller, r.firstTime, r.answeredBy])).toEqual([
      ['+79990001111', true, uri('a')],
      ['+79990001111', false, uri('a')], // round-robin alone would have given b
      ['+79990002222', true, uri('b')],
    ]);
  });

  it('route step: a paid-search caller reaches the search sales group, an offline-source caller the front desk', async () => {
    for (const number of [NUMBERS.ads, NUMBERS.flyer]) {
      const result = await call(number, 300);
      expect(result.code, result.errors).toBe(0);
    }
    expect([await answeredBy(NUMBERS.ads, 1), await answeredBy(NUMBERS.flyer, 1)]).toEqual([uri('b'), uri('c')]);
    expect(server.ended.find((r) => r.trackingNumber === NUMBERS.ads)?.answeredTarget).toBe(uri('b'));
  });

  it('validates groups, names the field, and lets managers read but not write', async () => {
    const bad = [
      { name: 'x', members: ['group:sales'] },
      { name: 'x', members: ['sip:*@h'] },
      { name: 'x', members: [] },
      { name: 'x', members: ['extension:101'], strategy: 'random' },
      { name: 'bad name', members: ['extension:101'] },
      { name: 'x', members: ['extension:101', 'extension:101'] },
    ];
    for (const payload of bad) {
      const res = await server.app.inject({ method: 'POST', url: '/v1/groups', headers: h.adminHeaders, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().message).toMatch(/members|strategy|name/);
    }
    const dup = await server.app.inject({ method: 'POST', url: '/v1/groups', headers: h.adminHeaders, payload: { name: 'SALES', members: ['extension:101'] } });
    expect(dup.statusCode).toBe(409);
    const manager = await h.headersFor('manager');
    const list = await server.app.inject({ method: 'GET', url: '/v1/groups', headers: manager });
    expect(list.json().items.map((g: { name: string }) => g.name)).toEqual(['sales', 'search-sales', 'support', 'turns']);
    const id = list.json().items[1].id;
    expect((await server.app.inject({ method: 'PATCH', url: `/v1/groups/${id}`, headers: manager, payload: { ringSeconds: 9 } })).statusCode).toBe(403);
    const patched = await server.app.inject({
      method: 'PATCH',
      url: `/v1/groups/${id}`,
      headers: h.adminHeaders,
      payload: { ringSeconds: 9, strategy: 'round-robin' },
    });
    expect(patched.json()).toMatchObject({ ringSeconds: 9, strategy: 'round-robin' });
    expect((await server.app.inject({ method: 'GET', url: '/v1/groups', headers: await h.headersFor('viewer') })).statusCode).toBe(403);
  });
});
