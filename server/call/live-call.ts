import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Attributor, AttributionSnapshot } from '../attribution/attribution.types.js';
import type { CallControl, ForwardOutcome, ForwardRequest } from '../dialplans/call-control.js';
import type { Dialplan } from '../dialplans/dialplan.schemas.js';
import type { Logger } from '../logger.js';
import { type AgentBranch, type CallMedia, placeholderAgentSdp } from '../media/call-media.js';
import type { DtmfListener } from '../media/dtmf-listener.js';
import { buildCallRecord, type QueueStay } from './call-record-builder.js';
import { CallerKeys } from './caller-keys.js';
import { ringLegs } from './ring-legs.js';
import { speakToFile } from '../media/tts.js';
import { AgentLeg, type DialOptions } from '../sip/agent-leg.js';
import { CallerDialog } from '../sip/caller-dialog.js';
import { ERRORS } from '../errors.js';
import type { InviteContext } from '../sip/invite-admission.js';
import { parseUri, type SipStack } from '../sip/sip-stack.js';
import type { SipRequest, SipResponse } from '../sip/sip-types.js';
import type { CallStart } from '../calls/call-events.js';
import type { CallRecord } from '../calls/calls.repository.js';
import { relayReinvite } from './reinvite-relay.js';
import { failureLine, type ReplacesDialog, reinviteLeg } from './attended-transfer.js';
import type { GroupPlan, RingGroups } from '../pbx/ring-groups.js';
import type { QueuedCall, QueueEngine, QueueResult } from '../pbx/queue-engine.js';
import type { LiveCallInfo } from '../pbx/live-board.js';
import type { RouteFacts } from '../dialplans/call-control.js';
import { resolveChannel } from '../calls/call-view.js';

/** The side of a call an in-dialog request came from. */
export type DialogSide = { side: 'caller' } | { side: 'agent'; leg: AgentLeg };

export interface LiveCallDeps {
  stack: SipStack;
  /** rtpengine control for this call, keyed by our call id. */
  mediaFor(callId: string): CallMedia;
  dtmf: DtmfListener | undefined;
  attributor: Attributor | undefined;
  promptsDir: string;
  ttsCacheDir: string;
  logger: Logger;
  /** The SIP URIs a dialplan target rings: itself, or every phone registered for `extension:NNN`. */
  resolveTarget(target: string): Promise<Array<string | DialTarget>>;
  /** The account's ring groups (`group:<name>` targets); none: such targets ring nobody. */
  groups?: Pick<RingGroups, 'noteFree'> & { plan(name: string): Promise<GroupPlan | undefined> };
  /** Whether a dialplan target is on another call now (busy group members are skipped). */
  isBusy?(target: string): boolean;
  /** The dialplan target that answered this caller's last answered call. */
  lastAgent?(): Promise<string | undefined>;
  /** Call queues (`queue:` steps); none: such steps are skipped. */
  queues?: Pick<QueueEngine, 'wait'> | undefined;
  /** The call was transferred away from `from` (a dialplan target): it is free again. */
  onTransferred?(session: LiveCall, from: string | undefined): void;
  /** The call joined a queue (the wallboard shows it waiting). */
  onQueued?(session: LiveCall, queue: string): void;
  /** The longest a call may last: a stuck or abused call ends and frees its media ports. */
  maxCallSeconds: number;
  /** Registers an agent leg's call-id so its BYE/responses find this session. */
  registerLeg(callId: string): void;
  /** Called once, after teardown, with the finished record. */
  onEnded(record: CallRecord, session: LiveCall): void;
  /** The caller or an agent was answered (new dialogs and record: the crash journal notes them). */
  onAnswered?(session: LiveCall): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One inbound call: implements CallControl for the dialplan and owns every resource of the call.
 * `end()` is the single teardown path (legs, rtpengine, record) so nothing leaks on any outcome.
 */
const GROUP_TARGET = 'group:';

/** One phone to ring: its SIP URI, and for an outbound trunk the caller ID, headers and credentials. */
export type DialTarget = { uri: string } & DialOptions;

export class LiveCall implements CallControl {
  readonly callId = crypto.randomUUID();
  readonly caller: CallerDialog;
  readonly log: Logger;
  readonly startedAt = new Date();
  answeredAt: Date | undefined;
  private agentSdp: string | undefined;
  private callerSdpSent = false;
  private readonly legs = new Map<string, AgentLeg>();
  private answeredLeg: AgentLeg | undefined;
  private lastForward: ForwardOutcome['outcome'] | undefined;
  private voicemail = false;
  private mediaFailed = false;
  /** 482/483 when every target refused the call as a loop. */
  private loopStatus: number | undefined;
  private digits = '';
  private endedBy: 'caller' | 'callee' | 'system' | undefined;
  private finalStatus: number | null = null;
  private resolveEnded!: () => void;
  readonly endedPromise = new Promise<void>((r) => {
    this.resolveEnded = r;
  });
  private cancelForward: (() => void) | undefined;
  private reinviting: Promise<void> | undefined;
  private attribution: AttributionSnapshot | undefined;
  vars: Record<string, string>;
  private readonly media: CallMedia;
  /** Keys the caller pressed: typed ahead during prompts, or awaited by a menu. */
  private readonly keys = new CallerKeys();
  private unsubscribeDtmf: (() => void) | undefined;

  constructor(
    readonly ctx: InviteContext,
    readonly plan: Dialplan,
    private readonly deps: LiveCallDeps,
  ) {
    this.log = deps.logger.child({ callId: ctx.request.headers['call-id'], internalCallId: this.callId, trackingNumber: ctx.trackingNumber });
    // No ACK for our 2xx, or our session refresh finds no dialog: the caller is gone either way.
    const callerGone = () => void this.end('system', 408);
    this.caller = new CallerDialog(deps.stack, ctx.request, callerGone, callerGone);
    this.vars = { caller: ctx.caller, number: ctx.trackingNumber, dialplan: plan.name };
    this.media = deps.mediaFor(this.callId);
    this.unsubscribeDtmf = deps.dtmf?.subscribe(this.callId, (digit) => this.callerPressed(digit, 'rtp'));
    this.maxLength = setTimeout(() => {
      this.log.warn({ type: 'call_max_length', seconds: deps.maxCallSeconds }, 'the call reached its maximum length; hanging up');
      void this.end('system');
    }, deps.maxCallSeconds * 1000);
    this.maxLength.unref();
  }

  private readonly maxLength: NodeJS.Timeout;
  /** Why the call is spam (blocked, or flagged and not through the gate); spam stays out of leads and reports. */
  private spamReason: string | undefined;

  markSpam(reason: string): void {
    this.spamReason = reason;
    this.log.info({ type: 'call_spam', reason }, 'call marked as spam');
  }

  get ended(): boolean {
    return this.endedBy !== undefined;
  }

  now(): Date {
    return new Date();
  }

  noteDigit(digit: string): void {
    this.digits += digit;
  }

  routeFacts(): RouteFacts {
    const a = this.attribution;
    const channel = resolveChannel(a?.staticSource ?? null, a?.visit ?? null);
    return { ...channel, firstTime: a ? a.firstTime : null };
  }

  /** Sticky agent, with a deadline like attribution: a slow database never holds the call up. */
  async lastAgent(): Promise<string | undefined> {
    if (!this.deps.lastAgent) return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.deps.lastAgent(),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), 500);
        }),
      ]);
    } catch (err) {
      this.log.warn({ err, type: 'last_agent_unavailable' }, 'cannot look up the caller’s last agent');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Attribution runs beside the ringing, with a deadline: analytics never holds a call up. */
  async attribute(timeoutMs = 500): Promise<void> {
    if (!this.deps.attributor) return;
    try {
      let timer: NodeJS.Timeout | undefined;
      this.attribution = await Promise.race([
        this.deps.attributor.attribute({ accountId: this.ctx.route.accountId, number: this.ctx.trackingNumber, at: this.startedAt, caller: this.ctx.caller }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('attribution timed out')), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      // Dialplan templates ({{source.name}}, {{campaign}}, …) and the route step read these.
      const snapshot = this.attribution;
      for (const [key, value] of Object.entries(snapshot.visit ?? {})) if (value) this.vars[key] = value;
      const sourceName = snapshot.staticSource?.name ?? snapshot.visit?.source;
      if (sourceName) this.vars['source.name'] = sourceName;
      if (snapshot.staticSource?.campaign) this.vars.campaign = snapshot.staticSource.campaign;
    } catch (err) {
      this.log.warn({ err, type: 'attribution_failed' }, 'attribution unavailable; call continues');
    }
  }

  /** Where the caller came from, for the agent's screen and the wallboard. */
  screenPop(): Pick<LiveCallInfo, 'source' | 'medium' | 'campaign' | 'keyword' | 'landingPage' | 'firstTime' | 'priorCalls'> {
    const facts = this.routeFacts();
    return {
      source: facts.source,
      medium: facts.medium,
      campaign: facts.campaign,
      keyword: facts.keyword,
      landingPage: this.attribution?.visit?.landingPage ?? null,
      firstTime: facts.firstTime,
      priorCalls: this.attribution?.priorCalls ?? 0,
    };
  }

  /** What leads hear while the phone rings (call.started), with the attribution snapshot if it came in time. */
  startInfo(): CallStart {
    return {
      callId: this.callId,
      accountId: this.ctx.route.accountId,
      sipCallId: this.ctx.request.headers['call-id'],
      caller: this.ctx.caller,
      callerName: this.ctx.callerName ?? null,
      trackingNumber: this.ctx.trackingNumber,
      dialplan: this.plan.name,
      startedAt: this.startedAt,
      attribution: this.attribution ?? null,
      spam: this.spamReason !== undefined,
    };
  }

  /**
   * A late offer (RFC 3261 13.2.1): the caller's INVITE had no SDP. rtpengine is offered a stand-in
   * for the caller (our address, discard port, G.711), our 2xx carries the resulting offer, and the
   * caller's answer arrives in its ACK (`callerAcked`); until then rtpengine learns the caller's
   * address from its first RTP packets.
   */
  private get lateOffer(): boolean {
    return !this.ctx.request.content?.trim();
  }
  /** What the agent side answered (SDP), for re-telling rtpengine once the late answer is in. */
  private agentAnswer: string | undefined;

  private async ensureAgentSdp(): Promise<string> {
    this.agentSdp ??= await this.media.offerFromCaller(this.lateOffer ? placeholderAgentSdp(this.deps.stack.host) : (this.ctx.request.content ?? ''));
    return this.agentSdp;
  }

  /** Announcements, IVR and voicemail need the caller's media up before any agent answers. */
  private async answerCallerEarly(): Promise<void> {
    if (this.caller.finalSent) return;
    await this.ensureAgentSdp();
    this.agentAnswer = placeholderAgentSdp(this.deps.stack.host);
    const sdp = await this.media.answerFromAgentSide(this.agentAnswer);
    this.caller.answer(sdp);
    this.callerSdpSent = true;
    this.deps.onAnswered?.(this);
  }

  private async waitOrEnd(ms: number): Promise<void> {
    await Promise.race([sleep(ms), this.endedPromise]);
  }

  async playToCaller(file: string): Promise<void> {
    if (this.ended) return;
    await this.answerCallerEarly();
    const duration = await this.media.play('caller', path.join(this.deps.promptsDir, file)).catch((err: unknown) => {
      this.log.warn({ err, file, type: 'prompt_failed' }, 'prompt could not be played');
      return 0;
    });
    // Barge-in: a key pressed during the prompt ends it (the digit stays queued for the menu).
    await this.keys.untilKeyOr(duration, this.endedPromise);
    if (this.keys.waiting) await this.media.stopPlay('caller');
  }

  /** A key the caller pressed: an RFC 4733 event rtpengine saw in the RTP, or a SIP INFO. */
  callerPressed(digit: string, via: 'rtp' | 'info'): void {
    this.keys.pressed(digit, via);
  }

  async collectDigit(timeoutMs: number): Promise<string | null> {
    if (this.ended && !this.keys.waiting) return null;
    return this.keys.next(timeoutMs, this.endedPromise);
  }

  /** The dialplan target (extension:101, a group member, a SIP URI) whose phone answered. */
  answeredTarget: string | undefined;
  /** Which dialplan target each rung SIP URI stands for. */
  private readonly originOf = new Map<string, string>();
  /** Group members rung by this call, with their group: longest-idle learns when they are free again. */
  private readonly groupOfMember = new Map<string, string>();

  private async resolve(target: string): Promise<DialTarget[]> {
    const dials = (await this.deps.resolveTarget(target)).map((d) => (typeof d === 'string' ? { uri: d } : d));
    for (const dial of dials) this.originOf.set(dial.uri, target);
    return dials;
  }

  /**
   * `group:<name>` becomes the group's members, busy ones left out. A forward to one group rings it
   * the group's way (order, at once or in turn, ring time); groups among other targets are spliced
   * in and rung the forward's way.
   */
  private async expandGroups(request: ForwardRequest): Promise<ForwardRequest> {
    if (!request.targets.some((t) => t.startsWith(GROUP_TARGET))) return request;
    const expand = async (target: string) => {
      if (!target.startsWith(GROUP_TARGET)) return { members: [target], plan: undefined };
      const plan = await this.deps.groups?.plan(target.slice(GROUP_TARGET.length));
      if (!plan) this.log.warn({ type: 'group_unknown', group: target }, 'no such ring group; it rings nobody');
      const members = (plan?.members ?? []).filter((member) => {
        const busy = this.deps.isBusy?.(member) ?? false;
        if (busy) this.log.info({ type: 'group_member_busy', member }, 'group member on another call; skipped');
        else if (plan) this.groupOfMember.set(member, plan.groupId);
        return !busy;
      });
      return { members, plan };
    };
    const parts = await Promise.all(request.targets.map(expand));
    const targets = [...new Set(parts.flatMap((p) => p.members))];
    const only = parts.length === 1 ? parts[0]?.plan : undefined;
    return only ? { ...request, targets, strategy: only.strategy, ringSeconds: only.ringSeconds } : { ...request, targets };
  }

  async forward(asked: ForwardRequest): Promise<ForwardOutcome> {
    if (this.ended) return { outcome: 'caller-gone' };
    const request = await this.expandGroups(asked);
    let sdp: string;
    try {
      sdp = await this.ensureAgentSdp();
    } catch (err) {
      // No media relay: nothing can be bridged. 'failed' ends the call with 503 so the carrier fails over.
      this.log.error({ err, type: 'media_unavailable' }, 'rtpengine could not anchor the call');
      this.lastForward = 'failed';
      this.mediaFailed = true;
      return { outcome: 'failed' };
    }
    const outcome =
      request.strategy === 'simultaneous'
        ? await this.ring((await Promise.all(request.targets.map((target) => this.resolve(target)))).flat(), sdp, request)
        : await this.ringInTurn(request.targets, sdp, request);
    if (outcome.outcome !== 'answered') this.lastForward = outcome.outcome;
    return outcome;
  }

  private async ringInTurn(targets: string[], sdp: string, request: ForwardRequest): Promise<ForwardOutcome> {
    let last: ForwardOutcome = { outcome: 'failed' };
    for (const target of targets) {
      last = await this.ring(await this.resolve(target), sdp, request);
      if (last.outcome === 'answered' || last.outcome === 'caller-gone') return last;
    }
    return last;
  }

  /** Rings targets at once; the first 2xx wins and the others are cancelled. */
  private async ring(targets: DialTarget[], sdp: string, request: ForwardRequest): Promise<ForwardOutcome> {
    // Browsers get the caller's offer as WebRTC needs it (ICE, DTLS-SRTP), on a branch of their own.
    let browserSdp: string | undefined;
    if (targets.some((t) => isBrowserTarget(t.uri))) {
      try {
        browserSdp = await this.media.offerToBrowser();
      } catch (err) {
        this.log.error({ err, type: 'browser_offer_failed' }, 'rtpengine could not offer to browsers; they are not rung');
        targets = targets.filter((t) => !isBrowserTarget(t.uri));
      }
    }
    // Nobody to ring (an extension with no phone registered): like a phone that does not answer.
    if (targets.length === 0) return { outcome: 'no-answer' };
    // A true decrement: a forwarding loop (a target that routes back to us) ends in 483 at admission.
    const maxForwards = Math.max(Number(this.ctx.request.headers['max-forwards'] ?? 70) - 1, 0);
    const callerUser = parseUri(this.ctx.request.headers.from.uri)?.user ?? 'anonymous';
    const legs = targets.map((target) => {
      const browser = isBrowserTarget(target.uri) && browserSdp !== undefined;
      // A browser softphone looks the call up for its screen pop (GET /v1/live/calls/{id}); others never see our ids.
      const dial = browser ? { ...target, headers: { ...target.headers, [CALL_ID_HEADER]: this.callId } } : target;
      const offer = browser && browserSdp !== undefined ? browserSdp : sdp;
      const leg = new AgentLeg(this.deps.stack, target.uri, callerUser, offer, maxForwards, `${this.callId}-${this.legs.size}`, dial);
      this.legs.set(leg.callId, leg);
      this.deps.registerLeg(leg.callId);
      return leg;
    });
    const ringing = ringLegs(legs, request.ringSeconds, {
      ended: () => this.ended,
      provisional: (leg, response) => void this.relayProgress(leg, response),
      bridge: (leg, response) => this.bridge(leg, response, request),
    });
    this.cancelForward = ringing.cancel;
    const { outcome, loopStatus } = await ringing.result;
    this.cancelForward = undefined;
    if (loopStatus) this.loopStatus = loopStatus;
    return outcome;
  }

  /** Ringing and early media (ringback, carrier announcements) pass through to the caller until it is answered. */
  private async relayProgress(leg: AgentLeg, response: SipResponse): Promise<void> {
    if (this.caller.finalSent) return;
    try {
      if (response.status === 183 && response.content && !this.callerSdpSent) {
        this.callerSdpSent = true;
        this.caller.progress(183, await this.media.answerFromAgentSide(response.content, branchOf(leg.target)));
      } else if (response.status === 180) {
        this.caller.progress(180);
      }
    } catch (err) {
      this.log.warn({ err, type: 'early_media_failed' }, 'early media could not be relayed; the caller hears nothing until the answer');
    }
  }

  /** The first agent to answer: the caller is bridged to them (after the whisper), and answered if not already. */
  private async bridge(leg: AgentLeg, response: SipResponse, request: ForwardRequest): Promise<'bridged' | 'gone' | 'failed'> {
    this.answeredLeg = leg;
    try {
      this.agentAnswer = response.content ?? '';
      const callerSdp = await this.media.answerFromAgentSide(this.agentAnswer, branchOf(leg.target));
      if (request.whisper) await this.whisper(request.whisper);
      if (this.ended) return 'gone';
      // A transfer's target answers a call that was answered long ago: talk time runs from the first answer.
      this.answeredAt ??= new Date();
      this.answeredTarget = this.originOf.get(leg.target) ?? leg.target;
      if (!this.caller.finalSent) this.caller.answer(callerSdp);
      this.log.info({ type: 'call_answered', target: leg.target }, 'agent answered');
      this.deps.onAnswered?.(this);
      return 'bridged';
    } catch (err) {
      this.log.error({ err, type: 'bridge_failed' }, 'could not bridge media');
      return 'failed';
    }
  }

  private async whisper(w: { text: string } | { file: string }): Promise<void> {
    try {
      const file = 'file' in w ? path.join(this.deps.promptsDir, w.file) : await speakToFile(w.text, this.deps.ttsCacheDir);
      const ms = await this.media.play('agent', file);
      await this.waitOrEnd(ms);
    } catch (err) {
      this.log.warn({ err, type: 'whisper_failed' }, 'whisper could not be played; bridging anyway');
    }
  }

  /** The queue this call waited in, and how that ended (stored with the call). */
  queueState: QueueStay | undefined;

  async queue(name: string): Promise<QueueResult> {
    if (this.ended) return 'caller-gone';
    if (!this.deps.queues) {
      this.log.warn({ type: 'queues_unavailable', queue: name }, 'queues are not running here; the plan goes on');
      return 'no-queue';
    }
    const isEnded = () => this.ended;
    const waiting: QueuedCall = {
      callId: this.callId,
      accountId: this.ctx.route.accountId,
      caller: this.ctx.caller,
      endedPromise: this.endedPromise,
      get ended() {
        return isEnded();
      },
      startPrompt: async (file) => {
        if (this.ended) return 0;
        await this.answerCallerEarly();
        return this.media.play('caller', file).catch((err: unknown) => {
          this.log.warn({ err, file, type: 'queue_prompt_failed' }, 'queue prompt could not be played');
          return 0;
        });
      },
      stopPrompt: () => this.media.stopPlay('caller'),
      offer: (targets, ringSeconds) => this.forward({ targets, strategy: 'simultaneous', ringSeconds, rotationKey: 'queue' }),
    };
    const result = await this.deps.queues.wait(waiting, name, (queue) => {
      this.queueState = { queue, joinedAt: new Date() };
      this.deps.onQueued?.(this, queue.name);
    });
    if (this.queueState && !this.queueState.outcome && !this.ended) {
      this.queueState.leftAt = new Date();
      this.queueState.outcome = result === 'answered' ? 'answered' : result === 'no-agents' ? 'no-agents' : 'timeout';
    }
    return result;
  }

  async recordVoicemail(maxSeconds: number, greetingFile?: string): Promise<void> {
    if (this.ended) return;
    if (greetingFile) await this.playToCaller(greetingFile);
    if (fs.existsSync(path.join(this.deps.promptsDir, 'beep.wav'))) await this.playToCaller('beep.wav');
    else await this.answerCallerEarly();
    // The whole call is being recorded; the caller's channel is the message.
    this.voicemail = true;
    await this.waitOrEnd(maxSeconds * 1000);
    if (!this.ended) await this.end('system');
  }

  async hangup(status?: number): Promise<void> {
    // Without a media relay the failure is ours, whatever the plan asks: 503 lets the carrier fail over.
    if (this.mediaFailed) status = 503;
    // Every target refused the call as a loop: the caller hears the same (483), so the loop ends everywhere.
    else if (this.loopStatus) status = this.loopStatus;
    const mapped =
      status ?? (this.lastForward === 'busy' ? 486 : this.lastForward === 'no-answer' ? 480 : this.lastForward === 'failed' ? (this.loopStatus ?? 503) : 480);
    await this.end('system', this.caller.finalSent ? undefined : mapped);
  }

  /**
   * Which of this call's dialogs an in-dialog request belongs to: the Call-ID and both tags must be
   * the dialog's (RFC 3261 12.2.2), so a stranger who learns a Call-ID cannot hang up or move a call.
   * A CANCEL carries the INVITE's To without our tag (RFC 3261 9.1) and is matched by the caller's tag.
   */
  dialogSide(request: SipRequest): DialogSide | undefined {
    const callId = request.headers['call-id'];
    const fromTag = request.headers.from?.params?.tag;
    const toTag = request.headers.to?.params?.tag;
    if (callId === this.ctx.request.headers['call-id']) {
      if (!fromTag || fromTag !== this.ctx.request.headers.from.params.tag) return undefined;
      if (request.method !== 'CANCEL' && toTag !== this.caller.localTag) return undefined;
      return { side: 'caller' };
    }
    const leg = this.legs.get(callId);
    if (!leg?.remoteTag || fromTag !== leg.remoteTag || toTag !== leg.localTag) return undefined;
    return { side: 'agent', leg };
  }

  private transferring = false;
  /** Targets the call was transferred away from (the record keeps the last one who took it). */
  readonly transferredFrom: string[] = [];

  /**
   * Blind transfer (REFER from the answered agent, RFC 3515): 202, then the target rings while the
   * caller stays on the call; when it answers the media moves to it through rtpengine, the agent
   * hears "200 OK" in a NOTIFY and is hung up. If nobody answers, the call goes back to the agent
   * if they are still there (NOTIFY with the failure), and ends otherwise.
   */
  async transfer(request: SipRequest, from: AgentLeg, target: string): Promise<void> {
    if (this.ended || from !== this.answeredLeg) return void this.deps.stack.replyError(request, ERRORS.dialogNotFound());
    if (this.transferring || this.handingOver || this.reinviting) return void this.deps.stack.replyError(request, ERRORS.requestPending());
    this.deps.stack.reply(request, 202);
    this.transferring = true;
    from.notifyTransfer('SIP/2.0 100 Trying', false);
    const fromTarget = this.answeredTarget;
    this.log.info({ type: 'transfer_started', target, from: fromTarget }, 'blind transfer');
    this.answeredLeg = undefined;
    const outcome = await this.forward({ targets: [target], strategy: 'simultaneous', ringSeconds: 30, rotationKey: 'transfer' }).catch(
      (): ForwardOutcome => ({ outcome: 'failed' }),
    );
    this.transferring = false;
    if (outcome.outcome === 'answered') {
      if (fromTarget) this.transferredFrom.push(fromTarget);
      from.notifyTransfer('SIP/2.0 200 OK', true);
      if (from.state === 'answered') {
        from.bye();
        from.state = 'ended';
      }
      this.deps.onTransferred?.(this, fromTarget);
      this.log.info({ type: 'transfer_done', target }, 'transfer answered');
      return;
    }
    this.log.info({ type: 'transfer_failed', target, outcome: outcome.outcome }, 'transfer target did not answer');
    if (from.state === 'answered' && !this.ended) {
      this.answeredLeg = from;
      this.answeredTarget = fromTarget;
      from.notifyTransfer(outcome.outcome === 'busy' ? 'SIP/2.0 486 Busy Here' : 'SIP/2.0 480 Temporarily Unavailable', true);
    } else if (!this.ended) await this.end('callee');
  }

  /** An attended transfer is moving media between this call and its consultation: re-INVITEs wait (491). */
  private handingOver = false;

  /** The agent leg the caller is bridged to, if any. */
  get bridgedLeg(): AgentLeg | undefined {
    return this.answeredLeg;
  }

  /** Whether `dialog` (a Replaces, as the calling phone sees it) is this call's caller dialog. */
  ownsCallerDialog(dialog: ReplacesDialog): boolean {
    return (
      dialog.callId === this.ctx.request.headers['call-id'] &&
      dialog.fromTag === this.ctx.request.headers.from.params.tag &&
      dialog.toTag === this.caller.localTag &&
      this.caller.answered
    );
  }

  /**
   * Attended transfer (REFER with Replaces, RFC 3891 / RFC 5589): the agent of this call consulted a
   * colleague in `consult`, a call their own phone placed, and hands our caller over to that
   * colleague. The colleague's leg gets a re-INVITE with this call's agent-side offer, so its media
   * joins this call's rtpengine session (the recording goes on); the consultation's rtpengine session
   * and both of the agent's dialogs end. On any failure the agent hears it in the final NOTIFY and
   * both calls stay as they were.
   */
  async completeAttendedTransfer(request: SipRequest, from: AgentLeg, consult: LiveCall): Promise<void> {
    if (this.ended || from !== this.answeredLeg) return void this.deps.stack.replyError(request, ERRORS.dialogNotFound());
    if (this.transferring || this.handingOver || this.reinviting || consult.transferring || consult.handingOver || consult.reinviting)
      return void this.deps.stack.replyError(request, ERRORS.requestPending());
    const colleague = consult.answeredLeg;
    if (!colleague || consult.ended) return void this.deps.stack.replyError(request, ERRORS.transferRefused('the consultation call is over'));
    this.deps.stack.reply(request, 202);
    this.handingOver = consult.handingOver = true;
    from.notifyTransfer('SIP/2.0 100 Trying', false);
    const fromTarget = this.answeredTarget;
    const target = consult.answeredTarget ?? colleague.target;
    this.log.info({ type: 'attended_transfer_started', target, from: fromTarget, consultCallId: consult.callId }, 'attended transfer');
    // Some phones hang up the transferred call as soon as the REFER is accepted (RFC 5589 lets them):
    // from here the agent's BYE must not end the caller's call.
    this.answeredLeg = undefined;
    let colleagueSdp: string;
    try {
      const branch = branchOf(colleague.target);
      const offer = branch === 'browser' ? await this.media.offerToBrowser() : await this.ensureAgentSdp();
      colleagueSdp = await reinviteLeg(colleague, offer);
      this.agentAnswer = colleagueSdp;
      await this.media.answerFromAgentSide(colleagueSdp, branch);
    } catch (err) {
      this.handingOver = consult.handingOver = false;
      this.log.warn({ err, type: 'attended_transfer_failed', target }, 'the colleague could not take the call over');
      // Nothing moved: the call stays with the agent, or ends if they have hung up meanwhile.
      if (from.state === 'answered' && !this.ended) {
        this.answeredLeg = from;
        from.notifyTransfer(failureLine(err), true);
      } else if (!this.ended) await this.end('callee');
      return;
    }
    this.handingOver = consult.handingOver = false;
    if (this.ended || consult.ended) {
      // The caller, or the consultation, hung up while the media moved: the rest ends too.
      this.log.info({ type: 'attended_transfer_abandoned', target }, 'a party hung up during the attended transfer');
      if (!consult.ended) await consult.end('system');
      if (!this.ended) await this.end('system');
      return;
    }
    consult.releaseLeg(colleague);
    this.legs.set(colleague.callId, colleague);
    this.deps.registerLeg(colleague.callId);
    this.originOf.set(colleague.target, target);
    this.answeredLeg = colleague;
    this.answeredTarget = target;
    if (fromTarget) this.transferredFrom.push(fromTarget);
    from.notifyTransfer('SIP/2.0 200 OK', true);
    from.bye();
    // The consultation is over for the agent (BYE in its dialog) and for rtpengine (its session goes).
    await consult.end('system');
    this.deps.onTransferred?.(this, fromTarget);
    this.deps.onAnswered?.(this);
    this.log.info({ type: 'attended_transfer_done', target }, 'attended transfer completed');
    if (this.callerHeld) await this.resumeCaller(colleagueSdp);
  }

  /** Gives up a leg another call has taken over: this call's teardown must not hang it up. */
  private releaseLeg(leg: AgentLeg): void {
    this.legs.delete(leg.callId);
    if (this.answeredLeg === leg) this.answeredLeg = undefined;
  }

  /** The agent put the caller on hold (their last re-INVITE offered sendonly or inactive). */
  private callerHeld = false;

  /**
   * The caller was left on hold by the agent who transferred it: a re-INVITE with the new agent's
   * media as a fresh offer takes it off hold, or it would never send audio to the colleague.
   */
  private async resumeCaller(agentSdp: string): Promise<void> {
    if (this.ended || this.reinviting) return;
    const resumed = (async () => {
      const offer = await this.media.reoffer('agent', agentSdp);
      const answer = await new Promise<string>((resolve, reject) => {
        let settled = false;
        this.caller.reinvite(offer, (response) => {
          if (response.status < 200) return;
          if (response.status < 300) this.caller.ackReinvite(response);
          if (settled) return;
          settled = true;
          if (response.status < 300) resolve(response.content ?? '');
          else reject(new Error(`the caller answered the resume re-INVITE with ${response.status}`));
        });
      });
      await this.media.reanswer('agent', answer);
      this.callerHeld = false;
      this.log.info({ type: 'caller_resumed' }, 'caller taken off hold after the transfer');
    })();
    this.reinviting = resumed
      .catch((err: unknown) => this.log.warn({ err, type: 'caller_resume_failed' }, 'could not take the caller off hold'))
      .finally(() => {
        this.reinviting = undefined;
      });
    await this.reinviting;
  }

  /** BYE or CANCEL from the caller (BYE once answered, CANCEL before). */
  callerHungUp(): void {
    void this.end('caller');
  }

  /** An agent leg sent BYE. */
  agentHungUp(leg: AgentLeg): void {
    leg.state = 'ended';
    if (leg === this.answeredLeg) void this.end('callee');
  }

  /** An ACK from the caller (for our 2xx to its INVITE or to a re-INVITE); after a late offer it carries the caller's answer. */
  callerAcked(cseq?: number, sdp?: string): void {
    const first = !this.caller.acked;
    this.caller.ack(cseq);
    if (!first || !this.lateOffer || !sdp?.trim() || this.ended) return;
    // The caller's own offer, in rtpengine's terms, towards the side that has already answered.
    void this.media
      .reoffer('caller', sdp)
      .then(() => this.media.reanswer('caller', this.agentAnswer ?? placeholderAgentSdp(this.deps.stack.host)))
      .then(() => this.log.info({ type: 'late_offer_answered' }, 'the caller answered our offer in its ACK'))
      .catch((err: unknown) => this.log.warn({ err, type: 'late_answer_failed' }, 'rtpengine refused the answer in the ACK; media follows the first RTP'));
  }

  /** An ACK from an agent for our 2xx to its re-INVITE. */
  agentAcked(leg: AgentLeg): void {
    leg.acked();
  }

  /**
   * A re-INVITE inside one of this call's dialogs (hold/unhold). One at a time per call: a second
   * while one is pending is answered 491 so the sender retries (RFC 3261 14.1 glare handling).
   */
  reinvite(request: SipRequest, from: DialogSide): void {
    const established = from.side === 'caller' ? this.caller.answered : from.leg === this.answeredLeg;
    if (this.ended || !established) return void this.deps.stack.replyError(request, ERRORS.dialogNotFound());
    if (this.reinviting || this.handingOver) return void this.deps.stack.replyError(request, ERRORS.requestPending());
    if (from.side === 'agent' && request.content) this.callerHeld = /^a=(sendonly|inactive)\s*$/m.test(request.content);
    this.reinviting = relayReinvite(
      { stack: this.deps.stack, caller: this.caller, agent: this.answeredLeg, media: this.media, log: this.log },
      request,
      from.side,
    )
      .catch((err: unknown) => this.log.error({ err, type: 'reinvite_failed' }, 're-INVITE relay failed'))
      .finally(() => {
        this.reinviting = undefined;
      });
  }

  /**
   * Ends a bridged call whose media rtpengine has dropped (RTP timeout: a side vanished without
   * BYE). Without this the dialogs, the session and the live-call gauge would stay up forever.
   */
  async checkMedia(): Promise<void> {
    if (this.ended || !this.caller.answered) return;
    if (await this.media.alive()) return;
    this.log.warn({ type: 'media_gone' }, 'rtpengine dropped the call; hanging up both sides');
    await this.end('system');
  }

  get legCallIds(): string[] {
    return [...this.legs.keys()];
  }

  /** The one teardown path. Idempotent. */
  async end(by: 'caller' | 'callee' | 'system', rejectStatus?: number): Promise<void> {
    if (this.endedBy) return;
    this.endedBy = by;
    const endedAt = new Date();
    clearTimeout(this.maxLength);
    this.cancelForward?.();
    this.caller.stopTimers();
    this.unsubscribeDtmf?.();
    if (!this.caller.finalSent) {
      // A cancelled INVITE always gets 487 (npm `sip` leaks the transaction otherwise).
      const status = by === 'caller' ? 487 : (rejectStatus ?? 480);
      this.finalStatus = status;
      this.caller.reject(status);
    } else if (by !== 'caller') {
      this.caller.bye();
    }
    for (const leg of this.legs.values()) {
      if (by === 'callee' && leg === this.answeredLeg) continue;
      if (leg.state === 'answered') leg.bye();
      else leg.cancel();
    }
    await this.media.remove();
    const groupId = this.answeredTarget && this.groupOfMember.get(this.answeredTarget);
    if (groupId && this.answeredTarget) this.deps.groups?.noteFree(groupId, this.answeredTarget, endedAt);
    this.resolveEnded();
    this.deps.onEnded(this.record(endedAt), this);
  }

  /** The record as it would be written if the call ended now (for the crash journal). */
  snapshot(): CallRecord {
    return this.record(new Date());
  }

  /** The BYEs that end this call's answered dialogs, for a node restarting after a crash to send. */
  byesAfterRestart(): SipRequest[] {
    const byes: SipRequest[] = [];
    if (this.caller.finalSent && (this.answeredAt || this.callerSdpSent)) byes.push(this.caller.byeAfterRestart());
    const agent = this.answeredLeg?.byeAfterRestart();
    if (agent) byes.push(agent);
    return byes;
  }

  private record(endedAt: Date): CallRecord {
    return buildCallRecord(
      {
        callId: this.callId,
        ctx: this.ctx,
        plan: this.plan,
        startedAt: this.startedAt,
        answeredAt: this.answeredAt,
        answeredBy: this.answeredLeg?.target,
        answeredTarget: this.answeredTarget,
        endedBy: this.endedBy,
        finalStatus: this.finalStatus,
        digits: this.digits,
        voicemail: this.voicemail,
        lastForward: this.lastForward,
        attribution: this.attribution,
        attributorConfigured: this.deps.attributor !== undefined,
        spamReason: this.spamReason,
        queueStay: this.queueState,
      },
      endedAt,
    );
  }
}

/** Names the call in INVITEs to browser softphones. */
export const CALL_ID_HEADER = 'x-calltrack-call-id';

/** A phone registered over WebSocket is a browser softphone (RFC 7118 contacts carry transport=ws or wss). */
export function isBrowserTarget(uri: string): boolean {
  return /;transport=wss?(;|$)/i.test(uri);
}

const branchOf = (uri: string): AgentBranch => (isBrowserTarget(uri) ? 'browser' : 'sip');
