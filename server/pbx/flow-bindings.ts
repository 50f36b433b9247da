import type { Logger } from '../logger.js';
import type { SipStack } from '../sip/sip-stack.js';
import type { SipRemote } from '../sip/sip-types.js';
import { type Registrar, type RegisterOutcome, sourceOf } from './registrar.js';

const CLOSED_MEMORY_MS = 60_000;

export interface FlowBindings {
  /** Notes the bindings a REGISTER over a WebSocket made, to drop them when that socket closes. */
  track(outcome: RegisterOutcome, remote: SipRemote): void;
}

/**
 * A browser can be rung only down the WebSocket it opened (RFC 7118, RFC 5626 flows). When the socket
 * closes its bindings lead nowhere, so they go at once instead of lingering until they expire and
 * making every call to the extension try a dead phone. The flows are this node's, so this memory is too.
 */
export function dropBindingsWhenFlowsClose(deps: {
  stack: Pick<SipStack, 'onFlowClosed'>;
  registrar: Pick<Registrar, 'dropIfFrom'>;
  logger: Logger;
}): FlowBindings {
  /** By flow source ("ws:addr:port"): the bindings registered through it. */
  const byFlow = new Map<string, Map<string, { extensionId: string; contact: string }>>();
  /**
   * Sockets closed while a REGISTER on them was still being checked (Postgres, Redis): its bindings
   * arrive after the close and go at once. Ephemeral ports are not reused within this window.
   */
  const closedRecently = new Map<string, number>();
  const log = deps.logger.child({ component: 'registrar' });

  function drop(source: string, bindings: Iterable<{ extensionId: string; contact: string }>): void {
    for (const { extensionId, contact } of bindings) {
      deps.registrar
        .dropIfFrom(extensionId, contact, source)
        .then((dropped) => {
          if (dropped) log.info({ type: 'ws_binding_dropped', extensionId, contact, source }, 'WebSocket closed: its registration is gone');
        })
        .catch((err: unknown) => log.warn({ err, type: 'ws_binding_drop_failed', extensionId }, 'could not drop the binding of a closed WebSocket'));
    }
  }

  deps.stack.onFlowClosed((flow) => {
    const source = sourceOf(flow);
    const now = Date.now();
    // Oldest first (insertion order): stop at the first one still remembered.
    for (const [closed, at] of closedRecently) {
      if (now - at <= CLOSED_MEMORY_MS) break;
      closedRecently.delete(closed);
    }
    closedRecently.set(source, now);
    const bindings = byFlow.get(source);
    byFlow.delete(source);
    drop(source, bindings?.values() ?? []);
  });

  return {
    track(outcome, remote) {
      const registered = outcome.registered;
      if (!registered || !/^wss?$/i.test(remote.protocol)) return;
      const source = sourceOf(remote);
      if (closedRecently.has(source)) {
        const late = registered.bindings.filter((b) => b.source === source);
        return drop(
          source,
          late.map((b) => ({ extensionId: registered.extensionId, contact: b.contact })),
        );
      }
      const mine = byFlow.get(source) ?? new Map<string, { extensionId: string; contact: string }>();
      // Redo this extension's entries from the REGISTER's result (Expires: 0 removed some).
      for (const [key, entry] of mine) if (entry.extensionId === registered.extensionId) mine.delete(key);
      for (const b of registered.bindings)
        if (b.source === source) mine.set(`${registered.extensionId} ${b.contact}`, { extensionId: registered.extensionId, contact: b.contact });
      if (mine.size > 0) byFlow.set(source, mine);
      else byFlow.delete(source);
    },
  };
}
