import type { Logger } from '../logger.js';
import type { SipStack } from '../sip/sip-stack.js';
import type { NameAddr } from '../sip/sip-types.js';
import type { Registrar, RegisterOutcome } from './registrar.js';

const MISSES_ALLOWED = 3;

interface Watched {
  extensionId: string;
  contact: string;
  target: string;
  expiresAt: number;
  /** Route through the SIP edge the phone registered by (its binding's Path). */
  path?: NameAddr[] | undefined;
  misses: number;
}

export interface ContactKeepalive {
  /** The phones a REGISTER left bound: pinged from now on (the ones gone are forgotten). */
  track(outcome: RegisterOutcome): void;
  stop(): void;
}

/**
 * Pings the phones that registered through this node with OPTIONS every `intervalMs`: a phone behind
 * NAT keeps its pinhole open only while packets flow, and one that stopped answering (unplugged, lost
 * its network) is dropped after three misses instead of being rung until its registration expires.
 * Any answer counts, even an error status: the phone is there.
 */
export function startContactKeepalive(deps: {
  stack: Pick<SipStack, 'host' | 'send'>;
  registrar: Pick<Registrar, 'drop'>;
  intervalMs: number;
  logger: Logger;
}): ContactKeepalive {
  const watched = new Map<string, Watched>();
  const log = deps.logger.child({ component: 'keepalive' });
  const answerMs = Math.min(Math.max(deps.intervalMs, 200), 5_000);
  const keyOf = (extensionId: string, contact: string) => `${extensionId} ${contact}`;

  function miss(w: Watched): void {
    w.misses++;
    if (w.misses < MISSES_ALLOWED || watched.get(keyOf(w.extensionId, w.contact)) !== w) return;
    watched.delete(keyOf(w.extensionId, w.contact));
    log.info({ type: 'contact_dropped', contact: w.contact, misses: w.misses }, 'phone stopped answering; registration dropped');
    void deps.registrar.drop(w.extensionId, w.contact).catch((err: unknown) => log.warn({ err }, 'could not drop the binding'));
  }

  function ping(w: Watched): void {
    let settled = false;
    // Our own deadline: the transaction's (32 s) would keep a dead phone rung for minutes.
    const deadline = setTimeout(() => {
      settled = true;
      miss(w);
    }, answerMs);
    deadline.unref();
    deps.stack.send(
      {
        method: 'OPTIONS',
        uri: w.target,
        headers: {
          via: [],
          // Through the edge, the only way into the phone's NAT (npm `sip` sends to the first Route).
          ...(w.path ? { route: w.path.map((entry) => ({ ...entry, params: { ...entry.params } })) } : {}),
          to: { uri: w.target, params: {} },
          from: { uri: `sip:keepalive@${deps.stack.host}`, params: { tag: Math.random().toString(36).slice(2, 10) } },
          'call-id': `ka-${Math.random().toString(36).slice(2)}@${deps.stack.host}`,
          cseq: { seq: 1, method: 'OPTIONS' },
          'max-forwards': 70,
        },
      },
      (response) => {
        // npm `sip` reports its own transaction timeout as 408: our deadline has counted that already.
        if (settled || response.status < 200 || response.status === 408) return;
        settled = true;
        clearTimeout(deadline);
        w.misses = 0;
      },
    );
  }

  const timer =
    deps.intervalMs > 0
      ? setInterval(() => {
          const now = Date.now();
          for (const [key, w] of watched) {
            if (w.expiresAt <= now) watched.delete(key);
            else ping(w);
          }
        }, deps.intervalMs)
      : undefined;
  timer?.unref();

  return {
    track(outcome) {
      const registered = outcome.registered;
      if (!registered || deps.intervalMs <= 0) return;
      const { extensionId, bindings } = registered;
      // Phones the REGISTER removed (Expires: 0, "*") are no longer watched.
      for (const [key, w] of watched) if (w.extensionId === extensionId && !bindings.some((b) => b.contact === w.contact)) watched.delete(key);
      for (const b of bindings) {
        // A browser on a WebSocket is not pinged: the socket's own pings find a dead one, and its close drops the binding.
        if (/;transport=wss?\b/i.test(b.target)) continue;
        const key = keyOf(extensionId, b.contact);
        const known = watched.get(key);
        if (known && known.target === b.target) {
          known.expiresAt = b.expiresAt;
          known.path = b.path;
        } else watched.set(key, { extensionId, ...b, misses: 0 });
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      watched.clear();
    },
  };
}
