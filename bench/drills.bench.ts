/**
 * Outage drills (`npm run bench:drills`): steady SIPp call load through the B2BUA (rtpengine,
 * recorded) with a webhook lead sink, while one part goes away: Postgres stopped for
 * DRILL_SECONDS (default 60), Redis stopped for DRILL_SECONDS, rtpengine restarted, and the
 * webhook receiver down for DRILL_SINK_SECONDS (default 600). For each it prints calls offered,
 * connected and failed, leads lost, recordings lost (goal 0 for both) and the time to drain after
 * recovery (every call stored, every lead delivered, every recording converted).
 *
 * Real processes: the project's Postgres, Redis and rtpengine are stopped and started with its own
 * scripts, so run it alone (not beside `npm test`). Options: DRILLS=postgres,redis,rtpengine,sink
 * DRILL_CPS (default 4), DRILL_CALL_SECONDS (default 3).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error plain .mjs shared with the set-up script, no types
import { startPostgres, startRedis, startRtpengine, stopPostgres, stopRedis, stopRtpengine } from '../infra/services.mjs';
import { type CallServer, startCallServer } from '../test/helpers/call-server.js';
import { newWebhookSecret, startWebhookFake, type WebhookFake } from '../test/fakes/webhook-fake.js';
import { createHarness, type Harness } from '../test/helpers/harness.js';
import { freePort } from '../test/helpers/ports.js';
import { makeToneFile, type RunningSipp, scenarioPath, startSipp } from '../test/helpers/sipp.js';

const CALLER_IP = '127.0.30.1';
const AGENT_IP = '127.0.30.2';
const NUMBER = '+74957550000';
const OUTAGE_SECONDS = Number(process.env.DRILL_SECONDS ?? 60);
const SINK_SECONDS = Number(process.env.DRILL_SINK_SECONDS ?? 600);
const CPS = Number(process.env.DRILL_CPS ?? 4);
const CALL_SECONDS = Number(process.env.DRILL_CALL_SECONDS ?? 3);
const DRILLS = (process.env.DRILLS ?? 'postgres,redis,rtpengine,sink').split(',').map((d) => d.trim());
const LEAD_MARGIN_S = 10;
const DRAIN_LIMIT_MS = Number(process.env.DRILL_DRAIN_LIMIT_SECONDS ?? 900) * 1000;

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outage {
  name: string;
  seconds: number;
  down(): Promise<void> | void;
  up(): Promise<void> | void;
}

async function main(): Promise<void> {
  await Promise.all([startPostgres(), startRedis(), startRtpengine()]);
  const h: Harness = await createHarness();
  const secret = newWebhookSecret();
  const receiver: WebhookFake = await startWebhookFake(secret);
  const agentPort = await freePort(AGENT_IP);
  // Only the webhook sink: the built-in analytics sink would add deliveries of its own.
  await h.db.query(`UPDATE lead_sinks SET enabled = false WHERE kind = 'analytics'`);
  const server: CallServer = await startCallServer(h, {
    dialplans: { drill: { record: true, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 10 } }] } },
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'drill' });
  const sink = await server.app.inject({
    method: 'POST',
    url: '/v1/sinks',
    headers: h.adminHeaders,
    payload: { kind: 'webhook', config: { url: receiver.url, secret, timeoutMs: 2_000 } },
  });
  if (sink.statusCode !== 201) throw new Error(`sink: ${sink.body}`);
  await server.services.leads.startWorkers();
  const agent: RunningSipp = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, rtpEcho: true, calls: 1_000_000, timeoutSeconds: 100_000 });

  const outages: Record<string, Outage> = {
    postgres: { name: `Postgres stopped ${OUTAGE_SECONDS} s`, seconds: OUTAGE_SECONDS, down: stopPostgres, up: startPostgres },
    redis: { name: `Redis stopped ${OUTAGE_SECONDS} s`, seconds: OUTAGE_SECONDS, down: stopRedis, up: startRedis },
    rtpengine: { name: 'rtpengine restarted', seconds: 1, down: stopRtpengine, up: startRtpengine },
    sink: {
      name: `webhook receiver down ${SINK_SECONDS} s`,
      seconds: SINK_SECONDS,
      down: () => receiver.down(),
      up: () => receiver.up(),
    },
  };

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltrack-drills-'));
  const tone = makeToneFile(workDir, 1000, 1);
  const callerScenario = path.join(workDir, 'uac-numbered.xml');
  fs.writeFileSync(callerScenario, fs.readFileSync(scenarioPath('uac-tone-bye.xml'), 'utf8').replaceAll('79161234567', '[field0]'));
  let drillIndex = 0;
  say(`Outage drills: SIPp ${CPS} CPS, ${CALL_SECONDS} s calls → B2BUA (rtpengine, recorded) → SIPp agent; webhook lead sink; ${os.cpus().length} CPUs`);
  say('drill                              offered connected failed leads-lost recordings-lost drain-s');
  for (const key of DRILLS) {
    const outage = outages[key];
    if (!outage) throw new Error(`unknown drill ${key} (postgres, redis, rtpengine, sink)`);
    const before = new Set(server.ended.map((r) => r.id));
    const loadSeconds = LEAD_MARGIN_S + outage.seconds + LEAD_MARGIN_S * 2;
    const calls = Math.round(CPS * loadSeconds);
    // Callers with their own numbers (one number calling hundreds of times is flagged as spam and is no lead),
    // each streaming a tone so both sides of the recording carry sound.
    const numbers = path.join(workDir, `${key}-callers.csv`);
    fs.writeFileSync(
      numbers,
      `SEQUENTIAL\n${Array.from({ length: calls }, (_, i) => `7916${String(1_000_000 + drillIndex * 100_000 + i).slice(1)}`).join('\n')}\n`,
    );
    const caller = await startSipp({
      scenario: callerScenario,
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      rate: CPS,
      calls,
      limit: CPS * (CALL_SECONDS + 10),
      timeoutSeconds: loadSeconds + 120,
      vars: { TONE: tone, TALK_MS: String(CALL_SECONDS * 1000) },
      extraArgs: ['-inf', numbers],
    });
    drillIndex++;
    await sleep(LEAD_MARGIN_S * 1000);
    await outage.down();
    await sleep(outage.seconds * 1000);
    await outage.up();
    const recoveredAt = Date.now();
    const result = await caller.done;
    const offered = calls;
    const connected = Number(/Successful call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(result.stdout)?.[1] ?? Number.NaN);
    const failed = Number(/Failed call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(result.stdout)?.[1] ?? Number.NaN);

    // Drain: every call of this drill stored, its lead at the receiver, its recording converted.
    let leadsLost = 0;
    let recordingsLost = 0;
    let drained = false;
    let polls = 0;
    while (Date.now() - recoveredAt < DRAIN_LIMIT_MS) {
      await server.writer.flush().catch(() => 0);
      const mine = server.ended.filter((r) => !before.has(r.id));
      const ids = mine.map((r) => r.id);
      const stored = await h.db
        .query<{ id: string; recording_status: string }>('SELECT id, recording_status FROM calls WHERE id = ANY($1::uuid[])', [ids])
        .then((r) => r.rows)
        .catch(() => []);
      const delivered = new Set(receiver.received.filter((m) => m.payload.type === 'call.completed').map((m) => m.payload.call.id as string));
      const answered = mine.filter((r) => r.answeredAt !== null);
      leadsLost = mine.filter((r) => !delivered.has(r.id)).length + (mine.length - stored.length);
      recordingsLost = answered.filter((r) => stored.find((s) => s.id === r.id)?.recording_status !== 'ready').length;
      if (leadsLost === 0 && recordingsLost === 0 && mine.length > 0) {
        drained = true;
        break;
      }
      if (++polls % 15 === 0)
        process.stderr.write(
          `  … ${outage.name}: ${mine.length} calls, ${stored.length} stored, ${delivered.size} leads delivered, ${recordingsLost} recordings pending\n`,
        );
      await sleep(1_000);
    }
    const drainS = ((Date.now() - recoveredAt) / 1000).toFixed(1);
    say(
      `${outage.name.padEnd(34)} ${String(offered).padStart(7)} ${String(connected).padStart(9)} ${String(failed).padStart(6)} ${String(leadsLost).padStart(10)} ${String(recordingsLost).padStart(15)} ${drained ? drainS.padStart(7) : `>${(DRAIN_LIMIT_MS / 1000).toFixed(0)}`.padStart(7)}`,
    );
  }
  agent.stop();
  // The workers hold a LISTEN connection: the pool cannot end until they let it go.
  await server.services.leads.stopWorkers();
  await server.stop();
  await receiver.close();
  await h.close();
  fs.rmSync(workDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    // Leave the services running for the next command, whatever happened.
    void Promise.all([startPostgres(), startRedis(), startRtpengine()]).finally(() => process.exit(1));
  },
);
