import type { Attributor } from '../attribution/attribution.types.js';
import type { CallEventSink } from '../calls/call-events.js';
import type { CallRecord } from '../calls/calls.repository.js';
import type { LiveCallJournal } from '../calls/live-call-journal.js';
import { createDialTargets, EXTENSION_TARGET } from './dial-targets.js';
import { createInDialogRequests } from './in-dialog-requests.js';
import { type DialogSide, LiveCall } from './live-call.js';
import { type OriginateOrder, OriginatedCall } from './originated-call.js';
import { passesSpamGate, sayGoodbye } from './spam-gate.js';
import { createTrunkLimits } from './trunk-limits.js';
import type { DialplanRegistry } from '../dialplans/dialplan-registry.js';
import { runDialplan } from '../dialplans/dialplan-interpreter.js';
import type { Dialplan } from '../dialplans/dialplan.schemas.js';
import type { Metrics } from '../http/metrics.js';
import { AppError, ERRORS, SIP_ACCEPT } from '../errors.js';
import type { Logger } from '../logger.js';
import { createCallMedia, MediaError } from '../media/call-media.js';
import type { DtmfListener } from '../media/dtmf-listener.js';
import type { Rtpengine } from '../media/rtpengine.js';
import { startContactKeepalive } from '../pbx/contact-keepalive.js';
import { dropBindingsWhenFlowsClose } from '../pbx/flow-bindings.js';
import { isWebSocket } from '../pbx/phone-credentials.js';
import type { Registrar } from '../pbx/registrar.js';
import type { RingGroups } from '../pbx/ring-groups.js';
import type { StoredDialplans } from '../dialplans/stored-dialplans.js';
import type { OutboundSide } from '../trunks/outbound.schemas.js';
import type { DigestAuth } from '../sip/digest.js';
import { admitInvite, type InviteContext } from '../sip/invite-admission.js';
import type { ExtensionCall } from '../pbx/extension-calls.js';
import { createLiveBoard, type LiveBoard } from '../pbx/live-board.js';
import type { QueueEngine } from '../pbx/queue-engine.js';
import { checkRequest, SUPPORTED } from '../sip/request-checks.js';
import type { RoutingCache } from '../sip/routing-cache.js';
import type { ScreenVerdict, SpamScreen } from '../spam/spam-screen.js';
import { createSipStack, type SipStack, type SipStackOptions } from '../sip/sip-stack.js';
import type { SipRemote, SipRequest } from '../sip/sip-types.js';

export interface B2buaDeps {
  host: string;
  port: number;
  publicHost: string;
  /** Digest challenges and checks for trunks that authenticate by username and password. */
  digest: DigestAuth;
  defaultCountry: string;
  /** SIP edge addresses whose X-Calltrack-Source header says where a request really came from. */
  trustedEdges?: string[];
  routing: RoutingCache;
  /** The dialplan target that answered a caller's last answered call (route steps' sticky agent). */
  lastAgentOf?(accountId: string, caller: string): Promise<string | undefined>;
  /** The account's outbound trunk side, for `tel:` targets. */
  outboundOf?(accountId: string): Promise<OutboundSide | undefined>;
  /** SIP over WebSocket for browser softphones (none when absent). */
  ws?: SipStackOptions['ws'];
  /** How often registered phones get an OPTIONS ping (0 = never; default 30 s). */
  keepaliveMs?: number;
  /** Calls placed by the account's phones (internal and outbound); undefined for an INVITE not from one. */
  extensionCalls?: ((request: SipRequest, remote: SipRemote) => Promise<ExtensionCall | AppError | undefined>) | undefined;
  /** Live calls and busy targets (shared with the wallboard); default: this B2BUA's own. */
  board?: LiveBoard | undefined;
  /** Call queues for `queue:` steps. */
  queues?: QueueEngine | undefined;
  /** Ring groups for `group:<name>` targets. */
  groups?: RingGroups | undefined;
  /** Extensions' REGISTER and where their phones are. */
  registrar?: Registrar | undefined;
  /** Block lists and suspicious-caller rules (none: every caller is screened ok). */
  spam?: SpamScreen | undefined;
  dialplans: DialplanRegistry;
  /** Call flows accounts saved with /v1/dialplans. */
  storedPlans?: Pick<StoredDialplans, 'get'> | undefined;
  rtpengine: Rtpengine;
  dtmf: DtmfListener | undefined;
  attributor?: Attributor | undefined;
  events?: CallEventSink | undefined;
  promptsDir: string;
  ttsCacheDir: string;
  metrics: Metrics;
  logger: Logger;
  /** Notes each live call's record as it changes, so a node that dies can store them on restart. */
  journal?: LiveCallJournal | undefined;
  /** Receives every finished call (the record writer, then recording conversion). */
  onCallEnded(record: CallRecord): void;
  /** How often bridged calls are checked against rtpengine for media it dropped (default 30 s). */
  mediaCheckMs?: number;
  /** The longest a call may last (default 4 h). */
  maxCallSeconds?: number;
  /** The most calls this node carries at once (0 or unset: no limit); see SIP_MAX_CALLS. */
  maxCalls?: number;
  /** How long a flagged caller has to press 1 (default 8 s). */
  spamGateSeconds?: number;
}

export interface B2bua {
  readonly stack: SipStack;
  /** Places a callback: rings the agent's phones, then the customer, and bridges them. */
  originate(order: OriginateOrder): OriginatedCall;
  liveCalls(): number;
  /** Our call ids (rtpengine's call-id too) of the calls in progress. */
  liveCallIds(): string[];
  /** The SIP Call-IDs of the live calls' caller dialogs. */
  liveSipCallIds(): string[];
  /** Ends every call (shutdown). */
  stop(): Promise<void>;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER, REFER, UPDATE, PRACK';

/**
 * The SIP edge: admits INVITEs from trunks to tracking numbers, runs each call's dialplan in a
 * LiveCall and routes in-dialog requests (ACK, BYE, CANCEL, re-INVITE) to it.
 */
export function startB2bua(deps: B2buaDeps): B2bua {
  /** Live calls by the SIP Call-ID of their caller's dialog, and by each of their agent legs'. */
  const calls = new Map<string, LiveCall>();
  const legs = new Map<string, LiveCall>();
  /** Callbacks placed from the app, by each of their legs' SIP Call-IDs. */
  const originated = new Map<string, OriginatedCall>();
  /** The callback leg an in-dialog request belongs to (the whole dialog must match). */
  const originatedLegOf = (request: SipRequest) => {
    const call = originated.get(request.headers['call-id']);
    const leg = call?.legOf(request);
    return call && leg ? { call, leg } : undefined;
  };
  const trunkLimits = createTrunkLimits();
  /** Live calls and who is on one (busy group members and agents are skipped), for the wallboard too. */
  const board = deps.board ?? createLiveBoard({ dayStats: async () => ({ answered: 0, abandoned: 0, serviceLevel: null }) });
  const log = deps.logger.child({ component: 'sip' });
  const dialTargets = createDialTargets({
    registrar: deps.registrar,
    groups: deps.groups,
    outboundOf: deps.outboundOf,
    defaultCountry: deps.defaultCountry,
    log,
  });
  let stack: SipStack;

  /**
   * The live call and side an in-dialog request belongs to: the whole dialog must match, and a
   * request on the caller's side must come from the INVITE's address or another of its trunk's.
   */
  function dialogOf(request: SipRequest, remote: SipRemote): { call: LiveCall; from: DialogSide } | undefined {
    const callId = request.headers['call-id'];
    const asCaller = calls.get(callId);
    const callerSide = asCaller?.dialogSide(request);
    if (asCaller && callerSide?.side === 'caller') {
      const trunk = asCaller.ctx.trunk;
      const sameTrunk = remote.address === asCaller.ctx.remote.address || (trunk !== null && deps.routing.trunkByAddress(remote.address)?.id === trunk.id);
      return sameTrunk ? { call: asCaller, from: callerSide } : undefined;
    }
    // A call that loops back to us has the same Call-ID on our leg and on the next call's caller dialog.
    const asLeg = legs.get(callId);
    const legSide = asLeg?.dialogSide(request);
    return asLeg && legSide?.side === 'agent' ? { call: asLeg, from: legSide } : undefined;
  }

  function onInvite(request: SipRequest, remote: SipRemote): void {
    const callId = request.headers['call-id'];
    if (request.headers.to.params.tag) return inDialog.reinvite(request, remote);
    // A second INVITE of a live call that is not in its dialog: a merged or looped request (RFC 3261 8.2.2.2).
    if (calls.has(callId)) return void stack.reply(request, 482);
    // Checked before any lookup: at capacity the cheapest answer is the kindest to the calls already up.
    if (deps.maxCalls && calls.size >= deps.maxCalls) {
      log.warn({ callId, type: 'node_at_capacity', liveCalls: calls.size }, 'INVITE refused: this node carries its most calls');
      return void stack.replyError(request, ERRORS.nodeAtCapacity(deps.maxCalls));
    }
    admit(request, remote)
      .then((admitted) => {
        if (!(admitted instanceof AppError)) return startCall(request, admitted.ctx, admitted.plan);
        log.info({ callId, type: 'invite_rejected', status: admitted.sipStatus, reason: admitted.message, from: remote.address }, 'INVITE rejected');
        stack.replyError(request, admitted);
      })
      .catch((err: unknown) => {
        log.error({ err, callId, type: 'invite_failed' }, 'INVITE handling failed');
        stack.replyError(request, ERRORS.internal(err));
      });
  }

  /** A carrier's call to a tracking number (trunk ACL or digest), or a call one of the account's phones places. */
  async function admit(request: SipRequest, remote: SipRemote): Promise<{ ctx: InviteContext; plan: Dialplan } | AppError> {
    const fromCarrier = deps.routing.trunksByAddress(remote.address).length > 0;
    // Phones are looked up in Postgres; while it is away a digest trunk's call must still get through.
    const fromPhone = fromCarrier
      ? undefined
      : await deps.extensionCalls?.(request, remote).catch((err: unknown) => {
          log.warn({ err, callId: request.headers['call-id'], type: 'extension_lookup_failed' }, 'cannot tell whether a phone calls; treated as a trunk call');
          return undefined;
        });
    if (fromPhone) return fromPhone;
    const admitted = await admitInvite({ routing: deps.routing, digest: deps.digest, defaultCountry: deps.defaultCountry }, request, remote);
    if (admitted instanceof AppError) return admitted;
    // The account's own saved flow first, then a YAML file of that name.
    const plan = deps.storedPlans?.get(admitted.route.accountId, admitted.route.dialplan) ?? deps.dialplans.get(admitted.route.dialplan);
    if (!plan) {
      log.error({ callId: request.headers['call-id'], type: 'dialplan_missing', dialplan: admitted.route.dialplan }, 'bound dialplan is not loaded');
      return ERRORS.dialplanNotLoaded(admitted.route.dialplan);
    }
    return { ctx: admitted, plan };
  }

  function startCall(request: SipRequest, admitted: InviteContext, plan: Dialplan): void {
    const callId = request.headers['call-id'];
    // Spam screening and trunk limits are about carriers' callers; the account's own phones skip them.
    const screening: ScreenVerdict = (!admitted.pbx && deps.spam?.screen({ accountId: admitted.route.accountId, caller: admitted.caller })) || {
      verdict: 'ok',
    };
    if (screening.verdict === 'blocked' && screening.action === 'reject') {
      log.info({ callId, type: 'caller_blocked', caller: admitted.caller, pattern: screening.pattern }, 'blocked caller refused');
      return void stack.replyError(request, ERRORS.callerBlocked());
    }
    const trunk = admitted.trunk;
    const overLimit = trunk ? trunkLimits.admit(trunk) : undefined;
    if (overLimit) {
      log.warn({ callId, type: 'trunk_limit', trunk: trunk?.name, reason: overLimit.message }, 'INVITE refused by a trunk limit');
      return void stack.replyError(request, overLimit);
    }
    const call: LiveCall = new LiveCall(admitted, plan, {
      stack,
      dtmf: deps.dtmf,
      attributor: deps.attributor,
      mediaFor: (internalId) =>
        createCallMedia({
          rtpengine: deps.rtpengine,
          callId: internalId,
          callerTag: String(request.headers.from.params.tag),
          callerBranch: isWebSocket(admitted.remote) ? 'browser' : 'sip',
          record: plan.record,
          logger: log,
        }),
      promptsDir: deps.promptsDir,
      ttsCacheDir: deps.ttsCacheDir,
      maxCallSeconds: deps.maxCallSeconds ?? 4 * 3600,
      resolveTarget: (target) => dialTargets.resolve(admitted, target),
      ...(deps.groups
        ? {
            groups: {
              plan: (name: string) => deps.groups!.plan(admitted.route.accountId, name),
              noteFree: (groupId: string, member: string, at: Date) => deps.groups!.noteFree(groupId, member, at),
            },
          }
        : {}),
      isBusy: (target) => board.isBusy(admitted.route.accountId, target),
      queues: deps.queues,
      onTransferred: (transferred, from) => {
        if (from) board.markTargetFree(transferred.ctx.route.accountId, transferred, from);
      },
      onQueued: (queued, queueName) => board.update(queued.ctx.route.accountId, queued.callId, { state: 'queued', queue: queueName }),
      ...(deps.lastAgentOf ? { lastAgent: () => deps.lastAgentOf!(admitted.route.accountId, admitted.caller) } : {}),
      logger: deps.logger,
      registerLeg: (legCallId) => legs.set(legCallId, call),
      onEnded: (record, ended) => {
        board.markFree(ended);
        board.ended(record.accountId, record.id);
        // The agent who took it wraps up (after a queue call) and has been idle since now.
        if (record.answeredTarget)
          deps.queues?.agentFree(record.accountId, record.answeredTarget, {
            wrapUpSeconds: ended.queueState?.outcome === 'answered' ? ended.queueState.queue.wrapUpSeconds : 0,
            queueTalkSeconds: ended.queueState?.outcome === 'answered' ? record.talkSeconds : undefined,
          });
        calls.delete(callId);
        for (const leg of ended.legCallIds) legs.delete(leg);
        if (trunk) trunkLimits.release(trunk.id);
        if (!admitted.pbx)
          deps.spam?.noteEnded({ accountId: record.accountId, caller: record.caller, talkSeconds: record.talkSeconds, answered: record.answeredAt !== null });
        deps.metrics.liveCalls.dec();
        ended.log.info({ type: 'call_ended', disposition: record.disposition, talkSeconds: record.talkSeconds }, 'call ended');
        deps.onCallEnded(record);
        deps.journal?.done(record.id);
      },
      onAnswered: (answered) => {
        // The answering side, and for a call an employee placed, the employee's own extension too.
        const pbxCaller = answered.ctx.pbx ? `${EXTENSION_TARGET}${answered.ctx.caller}` : undefined;
        const accountId = answered.ctx.route.accountId;
        board.markBusy(
          accountId,
          answered,
          [answered.answeredTarget, pbxCaller].filter((t): t is string => t !== undefined),
        );
        if (answered.answeredAt) board.update(accountId, answered.callId, { state: 'talking', agent: answered.answeredTarget ?? null });
        deps.journal?.note(answered.snapshot(), answered.byesAfterRestart());
      },
    });
    calls.set(callId, call);
    call.caller.tryingUnlessAnswered();
    deps.metrics.liveCalls.inc();
    board.started(admitted.route.accountId, {
      callId: call.callId,
      direction: admitted.pbx?.direction ?? 'inbound',
      caller: admitted.caller,
      trackingNumber: admitted.trackingNumber,
      startedAt: call.startedAt.toISOString(),
      state: 'ringing',
      queue: null,
      agent: null,
    });
    deps.journal?.note(call.snapshot());
    call.log.info({ type: 'call_started', caller: admitted.caller, dialplan: plan.name }, 'call admitted');
    void run(call, screening);
  }

  async function run(call: LiveCall, screening: ScreenVerdict): Promise<void> {
    try {
      if (screening.verdict === 'blocked') {
        call.markSpam(`blocked (${screening.pattern})`);
        return await sayGoodbye(call);
      }
      if (screening.verdict === 'flagged') {
        // Behind the gate a person proves themselves by pressing 1; without it the call goes on, marked.
        const passed = screening.gate ? await passesSpamGate(call, deps.spamGateSeconds ?? 8) : false;
        if (!passed) call.markSpam(screening.reasons.join('; '));
        if (screening.gate && !passed) return await call.hangup();
      }
      // Calls the account's own phones place are not leads: no attribution, no call.started.
      if (!call.ctx.pbx) {
        await call.attribute();
        if (!call.ended) deps.journal?.note(call.snapshot());
        board.update(call.ctx.route.accountId, call.callId, call.screenPop());
        try {
          deps.events?.callStarted(call.startInfo());
        } catch (err) {
          // The contract says it must not throw; if a sink does anyway, the call still goes through.
          call.log.warn({ err, type: 'call_started_sink_failed' }, 'callStarted sink threw');
        }
      }
      await runDialplan(call.plan, call, { logger: call.log });
    } catch (err) {
      const mediaDown = err instanceof MediaError;
      call.log.error({ err, type: mediaDown ? 'call_failed_media' : 'call_failed' }, mediaDown ? 'media relay unavailable' : 'call failed');
      await call.end('system', mediaDown ? 503 : 500);
    }
  }

  function onRequest(request: SipRequest, remote: SipRemote): void {
    const callId = request.headers['call-id'];
    try {
      const problem = checkRequest(request, remote);
      if (problem) {
        log.info({ callId, type: 'request_refused', method: request.method, status: problem.sipStatus, reason: problem.message }, 'request refused');
        // An ACK is never answered (RFC 3261 17.2.3): a broken one is dropped.
        return void (request.method === 'ACK' ? undefined : stack.replyError(request, problem));
      }
      if (inDialog.handle(request, remote)) return;
      switch (request.method) {
        case 'INVITE':
          return onInvite(request, remote);
        case 'REGISTER': {
          const registrar = deps.registrar;
          if (!registrar) return void stack.replyError(request, ERRORS.methodNotAllowed('REGISTER', ALLOW));
          void registrar
            .register(request, remote)
            .then((outcome) => {
              if (outcome.error) return void stack.replyError(request, outcome.error);
              stack.reply(request, outcome.status, { headers: outcome.headers ?? {} });
              keepalive?.track(outcome);
              flowBindings?.track(outcome, remote);
            })
            .catch((err: unknown) => {
              log.error({ err, callId, type: 'register_failed' }, 'REGISTER failed');
              stack.replyError(request, ERRORS.internal(err));
            });
          return;
        }
        case 'OPTIONS':
          return void stack.reply(request, 200, { headers: { allow: ALLOW, accept: SIP_ACCEPT, supported: SUPPORTED } });
        default:
          if (request.headers.to.params.tag && !dialogOf(request, remote)) return void stack.replyError(request, ERRORS.dialogNotFound());
          return void stack.replyError(request, ERRORS.methodNotAllowed(request.method, ALLOW));
      }
    } catch (err) {
      log.error({ err, callId, type: 'sip_request_failed' }, 'request handling failed');
      try {
        stack.replyError(request, ERRORS.internal(err));
      } catch {
        // The request was too broken to answer.
      }
    }
  }

  // rtpengine drops a call after its RTP timeout but never tells us: sweep for such calls. A few
  // queries at a time: with thousands of calls up, a burst would queue ahead of call set-up's
  // offer/answer in the ng client and delay new calls.
  async function sweepMedia(): Promise<void> {
    const live = [...calls.values()];
    for (let i = 0; i < live.length; i += 4) {
      await Promise.all(live.slice(i, i + 4).map((call) => call.checkMedia().catch(() => undefined)));
    }
  }
  let sweeping = false;
  const mediaSweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void sweepMedia().finally(() => {
      sweeping = false;
    });
  }, deps.mediaCheckMs ?? 30_000);
  mediaSweep.unref();

  stack = createSipStack({
    host: deps.host,
    port: deps.port,
    publicHost: deps.publicHost,
    trustedEdges: deps.trustedEdges ?? [],
    logger: log,
    onRequest,
    ws: deps.ws,
  });
  const inDialog = createInDialogRequests({
    stack,
    log,
    dialogOf,
    callbackLegOf: originatedLegOf,
    callBySipCallId: (sipCallId) => calls.get(sipCallId),
    transferTarget: dialTargets.transferTarget,
  });
  const keepalive = deps.registrar
    ? startContactKeepalive({ stack, registrar: deps.registrar, intervalMs: deps.keepaliveMs ?? 30_000, logger: deps.logger })
    : undefined;
  const flowBindings = deps.registrar ? dropBindingsWhenFlowsClose({ stack, registrar: deps.registrar, logger: deps.logger }) : undefined;
  function originate(order: OriginateOrder): OriginatedCall {
    const call: OriginatedCall = new OriginatedCall(order, {
      stack,
      mediaFor: (internalId) => createCallMedia({ rtpengine: deps.rtpengine, callId: internalId, callerTag: 'callback-customer', record: true, logger: log }),
      logger: deps.logger,
      agentRingSeconds: 30,
      customerRingSeconds: 60,
      maxCallSeconds: deps.maxCallSeconds ?? 4 * 3600,
      registerLeg: (legCallId) => originated.set(legCallId, call),
      onEnded: (record, ended) => {
        for (const leg of ended.legCallIds) originated.delete(leg);
        board.markFree(ended);
        board.ended(record.accountId, record.id);
        deps.metrics.liveCalls.dec();
        ended.log.info({ type: 'call_ended', disposition: record.disposition, talkSeconds: record.talkSeconds }, 'callback ended');
        deps.onCallEnded(record);
      },
    });
    deps.metrics.liveCalls.inc();
    // The agent is taken from the moment their phone rings for the callback: groups skip them.
    board.markBusy(order.accountId, call, [`${EXTENSION_TARGET}${order.extension.extension}`]);
    board.started(order.accountId, {
      callId: call.callId,
      direction: 'outbound',
      caller: order.extension.extension,
      trackingNumber: order.shownNumber,
      startedAt: call.startedAt.toISOString(),
      state: 'ringing',
      queue: null,
      agent: `${EXTENSION_TARGET}${order.extension.extension}`,
    });
    call.log.info({ type: 'callback_started', to: order.customerNumber }, 'callback: ringing the agent');
    void call.run();
    return call;
  }

  return {
    stack,
    originate,
    liveCalls: () => calls.size,
    liveCallIds: () => [...calls.values()].map((call) => call.callId),
    liveSipCallIds: () => [...calls.keys()],
    async stop() {
      clearInterval(mediaSweep);
      keepalive?.stop();
      await Promise.all([...calls.values()].map((call) => call.end('system', 503)));
      await Promise.all([...new Set(originated.values())].map((call) => call.hangup()));
      await stack.stop();
    },
  };
}
