import crypto from 'node:crypto';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { answerChallenge, type ParsedChallenge } from '../sip/digest-client.js';
import type { SipStack } from '../sip/sip-stack.js';
import type { SipResponse } from '../sip/sip-types.js';
import type { CarrierRegistration, OutboundSide } from './outbound.schemas.js';

/** This node's registrations with carriers, by trunk id (the trunks API shows them). */
export type CarrierRegistrationStatus = Map<string, CarrierRegistration>;

interface Loop {
  side: OutboundSide;
  timer: NodeJS.Timeout | undefined;
  cseq: number;
  callId: string;
  fromTag: string;
}

const RETRY_MS = 30_000;

/**
 * Registers with the carriers of trunks whose outbound side asks for it (`register: true`): REGISTER to
 * the gateway, a 401/407 answered once with the trunk's credentials, refreshed at half the granted
 * time, retried every 30 s after a failure. Each node registers its own contact, so the carrier can
 * reach any of them. Trunks are re-read every `rescanMs` and on provisioning changes.
 */
export function startCarrierRegistrations(deps: { db: Db; stack: SipStack; status: CarrierRegistrationStatus; logger: Logger; rescanMs?: number }): {
  rescan(): Promise<void>;
  stop(): void;
} {
  const loops = new Map<string, Loop>();
  const log = deps.logger.child({ component: 'carrier-registration' });
  const setStatus = (trunkId: string, s: Omit<CarrierRegistration, 'at'>) => deps.status.set(trunkId, { ...s, at: new Date().toISOString() });

  function schedule(trunkId: string, loop: Loop, ms: number): void {
    clearTimeout(loop.timer);
    loop.timer = setTimeout(() => register(trunkId, loop), ms);
    loop.timer.unref();
  }

  function register(trunkId: string, loop: Loop, authorization?: { header: string; value: Record<string, string> }): void {
    if (loops.get(trunkId) !== loop) return;
    const { side } = loop;
    const uri = `sip:${side.host}:${side.port}${side.transport === 'tcp' ? ';transport=tcp' : ''}`;
    const aor = `sip:${side.username}@${side.host}`;
    if (!authorization)
      setStatus(trunkId, {
        state: deps.status.get(trunkId)?.state === 'registered' ? 'registered' : 'registering',
        registeredUntil: deps.status.get(trunkId)?.registeredUntil ?? null,
        lastError: null,
      });
    deps.stack.send(
      {
        method: 'REGISTER',
        uri,
        headers: {
          via: [],
          to: { uri: aor, params: {} },
          from: { uri: aor, params: { tag: loop.fromTag } },
          'call-id': loop.callId,
          cseq: { seq: loop.cseq++, method: 'REGISTER' },
          contact: [{ uri: `sip:${side.username}@${deps.stack.host}:${deps.stack.port}`, params: {} }],
          expires: side.registerSeconds,
          'max-forwards': 70,
          ...(authorization ? { [authorization.header]: [authorization.value] } : {}),
        },
      },
      (response: SipResponse) => {
        if (response.status < 200 || loops.get(trunkId) !== loop) return;
        if ((response.status === 401 || response.status === 407) && !authorization && side.password) {
          const challenge = (response.headers[response.status === 401 ? 'www-authenticate' : 'proxy-authenticate'] as ParsedChallenge[] | undefined)?.[0];
          const answer = challenge && answerChallenge(challenge, { method: 'REGISTER', uri, username: side.username ?? '', password: side.password });
          if (answer) return register(trunkId, loop, { header: response.status === 401 ? 'authorization' : 'proxy-authorization', value: answer });
        }
        if (response.status >= 200 && response.status < 300) {
          const granted = Number(response.headers.contact?.[0]?.params?.expires ?? response.headers.expires ?? side.registerSeconds);
          const seconds = Number.isFinite(granted) && granted > 0 ? granted : side.registerSeconds;
          setStatus(trunkId, { state: 'registered', registeredUntil: new Date(Date.now() + seconds * 1000).toISOString(), lastError: null });
          log.info({ type: 'carrier_registered', trunkId, seconds }, 'registered with the carrier');
          return schedule(trunkId, loop, (seconds * 1000) / 2);
        }
        const error = `${response.status} ${response.reason ?? ''}`.trim();
        setStatus(trunkId, { state: 'failed', registeredUntil: null, lastError: error });
        log.warn({ type: 'carrier_register_failed', trunkId, error }, 'carrier refused our REGISTER; retrying');
        schedule(trunkId, loop, RETRY_MS);
      },
    );
  }

  async function rescan(): Promise<void> {
    const { rows } = await deps.db.query<{ id: string; outbound: OutboundSide }>(
      `SELECT id, outbound FROM trunks WHERE outbound IS NOT NULL AND (outbound->>'register')::boolean IS TRUE`,
    );
    const wanted = new Map(rows.map((r) => [r.id, r.outbound]));
    for (const [trunkId, loop] of loops) {
      if (JSON.stringify(wanted.get(trunkId)) === JSON.stringify(loop.side)) continue;
      clearTimeout(loop.timer);
      loops.delete(trunkId);
      deps.status.delete(trunkId);
    }
    for (const [trunkId, side] of wanted) {
      if (loops.has(trunkId)) continue;
      const loop: Loop = {
        side,
        timer: undefined,
        cseq: 1,
        callId: `${crypto.randomBytes(8).toString('hex')}@${deps.stack.host}`,
        fromTag: crypto.randomBytes(4).toString('hex'),
      };
      loops.set(trunkId, loop);
      register(trunkId, loop);
    }
  }

  const timer = setInterval(() => {
    rescan().catch((err: unknown) => log.warn({ err }, 'cannot read trunks to register; keeping the current registrations'));
  }, deps.rescanMs ?? 60_000);
  timer.unref();
  void rescan().catch((err: unknown) => log.warn({ err }, 'cannot read trunks to register yet'));

  return {
    rescan,
    stop() {
      clearInterval(timer);
      for (const loop of loops.values()) clearTimeout(loop.timer);
      loops.clear();
    },
  };
}
