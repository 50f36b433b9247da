/**
 * The contract between the dialplan interpreter (dialplans/) and the B2BUA (sip/ + calls/).
 * The interpreter decides what happens; a CallControl makes it happen on a real call.
 */
export type ForwardStrategy = 'simultaneous' | 'sequential' | 'round-robin';

export interface ForwardRequest {
  /** SIP URIs exactly as the dialplan names them; the B2BUA dials nothing else (no open relay). */
  targets: string[];
  strategy: ForwardStrategy;
  /** Per target for sequential/round-robin, overall for simultaneous. */
  ringSeconds: number;
  /** Rendered text (spoken by TTS) or a file name under the prompts dir, played to the agent before bridging. */
  whisper?: { text: string } | { file: string };
  /** Stable key for round-robin rotation (usually the dialplan name + step index). */
  rotationKey: string;
}

export type ForwardOutcome = { outcome: 'answered'; target: string } | { outcome: 'busy' | 'no-answer' | 'failed' | 'caller-gone' };

export interface CallControl {
  readonly callId: string;
  /** Template variables for whisper/announcements: caller, number, source.name, source.channel, campaign, … */
  readonly vars: Readonly<Record<string, string>>;
  now(): Date;
  /** True once either side has hung up; steps stop running then. */
  readonly ended: boolean;
  /** Plays a prompt file to the caller (answering the caller first if needed); resolves when done or the caller hangs up. */
  playToCaller(file: string): Promise<void>;
  /** Waits for one DTMF digit from the caller; null on timeout or hangup. */
  collectDigit(timeoutMs: number): Promise<string | null>;
  /** Rings targets; when answered the legs are bridged and it resolves once the bridge is up. */
  forward(request: ForwardRequest): Promise<ForwardOutcome>;
  /**
   * Waits in a call queue until an agent answers ('answered', bridged) or the caller leaves, the
   * maximum wait passes or no agent is logged in (the plan goes on with its next step).
   */
  queue(name: string): Promise<'answered' | 'timeout' | 'no-agents' | 'caller-gone' | 'no-queue'>;
  /** Answers (if needed), beeps, records the caller up to maxSeconds; marks the call as voicemail. */
  recordVoicemail(maxSeconds: number, greetingFile?: string): Promise<void>;
  /** Ends the call; status is the SIP final response when the caller was not answered yet (e.g. 486, 480, 603). */
  hangup(status?: number): Promise<void>;
  /** Remembers IVR digits for the call record and tag rules. */
  noteDigit(digit: string): void;
  /** What attribution knew when the call arrived, for route steps. */
  routeFacts(): RouteFacts;
  /** The dialplan target that answered this caller's last answered call (sticky agent). */
  lastAgent(): Promise<string | undefined>;
}

export interface RouteFacts {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  keyword: string | null;
  /** null when attribution could not tell (it timed out or is off). */
  firstTime: boolean | null;
}
