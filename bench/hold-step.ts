/**
 * The concurrency step bench:sip and bench:edge share: a SIPp caller ramps up to N calls that each
 * stream a tone for longer than the ramp takes (so all N are up at once), a SIPp agent echoes, and
 * at the peak a sample of the calls must show rtpengine receiving packets from both sides, twice a
 * second apart (media flowing, not just set up).
 *
 * @example
 *   const r = await holdStep({ rtpengine, target: `127.0.0.1:${port}`, callerIp, agentIp, agentPort, number, tone, calls: 500, probe });
 *   say(`${r.ok ? 'ok' : 'FAIL'} ${r.detail}`);
 */
import type { Rtpengine } from '../server/media/rtpengine.js';
import { type SippResult, scenarioPath, startSipp } from '../test/helpers/sipp.js';

/** Calls per second while the calls of a step are set up. */
export const RAMP_CPS = 200;

/**
 * Stops a step's agent SIPp a moment after its caller finished, so the last calls' BYEs are
 * answered and do not reach the next step's agent on the same port. SIPp's uas aborts a call when
 * our INVITE is retransmitted after its 200 (the B2BUA read its answer late: Timer A fired first)
 * and leaves that call's BYE unanswered; the BYE's retransmissions reached the next step's agent,
 * which counted each as a call of its own, quit that many calls early (its -m), and the rest of the
 * step rang out (480): two of every three calls at 600 CPS. Agents now also get room in their -m.
 */
export async function finishAgent<T>(agent: { stop(): void; done: Promise<T> }, graceMs = 2_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([agent.done, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  agent.stop();
  return agent.done;
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** How to see the step's calls on the B2BUA side: in process (bench:sip) or through rtpengine alone (nodes in other processes). */
export interface HoldProbe {
  /** Calls of this step up now. */
  liveCalls(): number | Promise<number>;
  /** rtpengine call-ids of some of this step's live calls, for the media sample. */
  sampleCallIds(caller: { pid: number }): string[] | Promise<string[]>;
}

export interface HoldStepOptions {
  rtpengine: Rtpengine;
  /** Where the caller sends its INVITEs: a node, or the edge in front of nodes. */
  target: string;
  callerIp: string;
  agentIp: string;
  agentPort: number;
  /** The tracking number dialled (E.164). */
  number: string;
  /** Raw µ-law tone the caller streams (makeToneFile). */
  tone: string;
  calls: number;
  probe: HoldProbe;
}

export interface HoldStepResult {
  ok: boolean;
  peak: number;
  caller: SippResult;
  detail: string;
}

/** Packets rtpengine received from each side of a call (one count per tag). */
export async function packetsBySide(rtpengine: Rtpengine, callId: string): Promise<number[]> {
  // Under full load rtpengine may not answer a query in time: count that as "not seen flowing".
  const q = await rtpengine.command('query', { 'call-id': callId }).catch(() => ({ result: 'timeout' }) as Record<string, unknown>);
  if (q.result !== 'ok') return [];
  const tags = q.tags as Record<string, { medias?: Array<{ streams?: Array<{ stats?: { packets?: number } }> }> }>;
  return Object.values(tags).map((t) => (t.medias ?? []).flatMap((m) => m.streams ?? []).reduce((n, s) => n + Number(s.stats?.packets ?? 0), 0));
}

/**
 * Holds `calls` calls at once with RTP both ways. Passes when the peak reached the target, SIPp
 * saw every call answered and ended cleanly, and every sampled call had media flowing both ways.
 */
export async function holdStep(o: HoldStepOptions): Promise<HoldStepResult> {
  const holdMs = Math.ceil(o.calls / RAMP_CPS) * 1000 + 6_000;
  const agent = await startSipp({
    scenario: 'uas',
    ip: o.agentIp,
    port: o.agentPort,
    calls: o.calls,
    rtpEcho: true,
    timeoutSeconds: 120,
    extraArgs: ['-max_socket', '4096'],
  });
  const caller = await startSipp({
    scenario: scenarioPath('uac-stream-hold-expect-answered.xml'),
    ip: o.callerIp,
    target: o.target,
    service: o.number.slice(1),
    calls: o.calls,
    rate: RAMP_CPS,
    limit: o.calls,
    timeoutSeconds: 120,
    vars: { TONE: o.tone, HOLD_MS: String(holdMs) },
    extraArgs: ['-max_socket', '4096'],
  });
  let peak = 0;
  const reached = await until(async () => {
    peak = Math.max(peak, await o.probe.liveCalls());
    return peak >= o.calls;
  }, holdMs);
  // Media check at the peak: packets must keep arriving from both sides in a sample of calls.
  const sample = (await o.probe.sampleCallIds({ pid: caller.process.pid ?? 0 })).slice(0, 10);
  const first = await Promise.all(sample.map((id) => packetsBySide(o.rtpengine, id)));
  await new Promise((r) => setTimeout(r, 1_000));
  const second = await Promise.all(sample.map((id) => packetsBySide(o.rtpengine, id)));
  const flowing = sample.filter((_, i) => {
    const a = first[i]!;
    const b = second[i]!;
    return a.length >= 2 && b.length === a.length && b.every((n, j) => n > a[j]!);
  }).length;
  const result = await caller.done;
  await finishAgent(agent); // the next step's agent binds the same port
  const ok = reached && result.code === 0 && flowing === sample.length && sample.length > 0;
  return {
    ok,
    peak,
    caller: result,
    detail: `peak ${peak} live calls, RTP flowing both ways in ${flowing}/${sample.length} sampled, sipp exit ${result.code}`,
  };
}

/**
 * A probe for B2BUA nodes in other processes, through the rtpengine they share: live calls are
 * rtpengine's sessions above what it held before the step (anything else using it shows up too:
 * run on a quiet box), and the sample is calls whose caller tag is the SIPp caller's (SIPp's tags
 * start with its pid).
 */
export async function rtpengineProbe(rtpengine: Rtpengine): Promise<HoldProbe> {
  const baseline = await rtpengineSessions(rtpengine);
  return {
    liveCalls: async () => Math.max(0, (await rtpengineSessions(rtpengine)) - baseline),
    async sampleCallIds({ pid }) {
      const listed = await rtpengine.command('list', { limit: 40 }).catch(() => ({}) as Record<string, unknown>);
      const ids = Array.isArray(listed.calls) ? listed.calls.map(String) : [];
      const ours: string[] = [];
      for (const id of ids) {
        const q = await rtpengine.command('query', { 'call-id': id }).catch(() => ({}) as Record<string, unknown>);
        const tags = Object.keys((q.tags as Record<string, unknown> | undefined) ?? {});
        if (tags.some((tag) => tag.startsWith(`${pid}SIPpTag`))) ours.push(id);
        if (ours.length >= 10) break;
      }
      return ours;
    },
  };
}

/** Calls rtpengine holds now (every user of it: the benches' own and anything else running). */
export async function rtpengineSessions(rtpengine: Rtpengine): Promise<number> {
  const reply = await rtpengine.command('statistics', {}).catch(() => ({}) as Record<string, unknown>);
  const stats = reply.statistics as { currentstatistics?: { sessionsown?: number } } | undefined;
  return Number(stats?.currentstatistics?.sessionsown ?? 0);
}
