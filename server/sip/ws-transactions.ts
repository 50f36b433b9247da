import type { Logger } from '../logger.js';
import { reasonPhrase } from './reason-phrases.js';
import { sipLib } from './sip-lib.js';
import type { SipMessage, SipRemote, SipRequest, SipResponse, SipUri } from './sip-types.js';
import type { WsTransport } from './ws-transport.js';

/** Timer B/F and how long a finished transaction still absorbs strays (64·T1, RFC 3261 17). */
const TRANSACTION_MS = 32_000;

interface ClientTransaction {
  request: SipRequest;
  flow: SipRemote;
  onResponse: (response: SipResponse) => void;
  state: 'calling' | 'proceeding' | 'accepted' | 'completed';
  timer: NodeJS.Timeout | undefined;
}

interface ServerTransaction {
  flow: SipRemote;
  /** An INVITE refused with a non-2xx: its ACK belongs to the transaction, not the dialog. */
  absorbsAck: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Transactions over SIP WebSocket flows. WebSocket is reliable, so nothing is retransmitted
 * (RFC 3261 17.1.1.2, 17.1.2.2); what remains is matching: responses to our requests by Via branch
 * back to their callback, our responses to the flow the request came on, the ACK of a refused
 * INVITE, timeouts, and a closed flow failing what is pending on it (503, as for a transport error).
 */
export interface WsTransactions {
  /** Takes a message from the transport; requests are passed on to `onRequest`. */
  receive(message: SipMessage, remote: SipRemote): void;
  /** Sends the request if its next hop is a WebSocket flow; false leaves it to UDP/TCP. */
  sendRequest(request: SipRequest, onResponse?: (response: SipResponse) => void): boolean;
  /** Sends the response if it answers a request that came over WebSocket; false otherwise. */
  sendResponse(response: SipResponse): boolean;
  flowClosed(flow: SipRemote): void;
  stop(): void;
}

const serverKey = (m: SipMessage) => {
  const method = 'method' in m && m.method === 'ACK' ? 'INVITE' : m.headers.cseq.method;
  return `${method} ${m.headers['call-id']} ${m.headers.via[0]?.params.branch ?? ''}`;
};
const clientKey = (branch: string, method: string) => `${method} ${branch}`;
const sameFlow = (a: SipRemote, b: SipRemote) => a.address === b.address && a.port === b.port;

/** The URI a request goes to first: its first Route, or the Request-URI. */
function nextHop(request: SipRequest): SipUri | undefined {
  const route = request.headers.route;
  const first = Array.isArray(route) ? (route[0] as { uri?: unknown } | undefined)?.uri : undefined;
  const hop = typeof first === 'string' ? first : request.uri;
  try {
    return typeof hop === 'string' ? sipLib.parseUri(hop) : (hop as SipUri);
  } catch {
    return undefined;
  }
}

export function createWsTransactions(deps: {
  transport: Pick<WsTransport, 'flowFor' | 'send' | 'learnContact' | 'protocol' | 'port'>;
  publicHost: string;
  logger: Logger;
  onRequest(request: SipRequest, remote: SipRemote): void;
}): WsTransactions {
  const { transport } = deps;
  const clients = new Map<string, ClientTransaction>();
  const servers = new Map<string, ServerTransaction>();
  const log = deps.logger.child({ component: 'sip-ws' });

  const later = (fn: () => void, ms: number) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  };
  /** A response we make up for our own request (timeout, flow gone), as npm `sip` does for UDP/TCP. */
  const localResponse = (request: SipRequest, status: number) => sipLib.makeResponse(request, status, reasonPhrase(status));

  function deliver(t: ClientTransaction, response: SipResponse): void {
    try {
      t.onResponse(response);
    } catch (err) {
      log.warn({ err, type: 'sip_ws_response_failed', callId: response.headers['call-id'] }, 'response handling failed');
    }
  }

  function finishClient(key: string, t: ClientTransaction, keepMs: number): void {
    clearTimeout(t.timer);
    t.timer = later(() => clients.delete(key), keepMs);
  }

  function onResponse(response: SipResponse, remote: SipRemote): void {
    const branch = response.headers.via[0]?.params.branch;
    const key = clientKey(String(branch ?? ''), response.headers.cseq.method);
    const t = clients.get(key);
    if (!t || !sameFlow(t.flow, remote)) {
      log.debug({ type: 'sip_ws_stray_response', callId: response.headers['call-id'], status: response.status }, 'response matches no transaction');
      return;
    }
    const invite = t.request.method === 'INVITE';
    if (t.state === 'completed') return;
    // In-dialog requests go to the Contact of this answer: an unroutable one for a browser.
    for (const contact of response.headers.contact ?? []) if (typeof contact?.uri === 'string') transport.learnContact(remote, contact.uri);
    if (t.state === 'accepted') {
      // A repeated 2xx: the dialog ACKs it again (RFC 6026); anything else is stale.
      if (response.status >= 200 && response.status < 300) deliver(t, response);
      return;
    }
    if (response.status < 200) {
      t.state = 'proceeding';
      clearTimeout(t.timer);
      t.timer = undefined;
      return deliver(t, response);
    }
    deliver(t, response);
    if (invite && response.status < 300) {
      t.state = 'accepted';
      return finishClient(key, t, TRANSACTION_MS);
    }
    if (invite) ackRefusal(t, response);
    t.state = 'completed';
    // Nothing is retransmitted on a reliable transport: the transaction can go at once.
    finishClient(key, t, 0);
  }

  /** ACK of a non-2xx to our INVITE: hop by hop, part of the transaction (RFC 3261 17.1.1.3). */
  function ackRefusal(t: ClientTransaction, response: SipResponse): void {
    const { request } = t;
    const ack: SipRequest = {
      method: 'ACK',
      uri: request.uri,
      headers: {
        via: [request.headers.via[0]!],
        to: response.headers.to,
        from: request.headers.from,
        'call-id': request.headers['call-id'],
        cseq: { seq: request.headers.cseq.seq, method: 'ACK' },
        'max-forwards': 70,
        ...(request.headers.route ? { route: request.headers.route } : {}),
      },
    };
    transport.send(t.flow, ack);
  }

  return {
    receive(message, remote) {
      if (!('method' in message)) return onResponse(message, remote);
      const key = serverKey(message);
      const known = servers.get(key);
      if (message.method === 'ACK') {
        if (known?.absorbsAck) return;
        return deps.onRequest(message, remote);
      }
      // A retransmission (a client that does not trust the transport): the first one is being handled.
      if (known) return;
      servers.set(key, { flow: remote, absorbsAck: false, timer: undefined });
      deps.onRequest(message, remote);
    },

    sendRequest(request, onResponse) {
      const hop = nextHop(request);
      if (!hop) return false;
      const transportParam = String(hop.params?.transport ?? '').toLowerCase();
      const flow = transport.flowFor(hop);
      if (!flow && transportParam !== 'ws' && transportParam !== 'wss') return false;
      const callId = request.headers['call-id'];
      if (!flow) {
        // RFC 5626 11.5: the flow the phone registered over is gone, so the phone cannot be reached.
        log.info({ type: 'sip_ws_flow_gone', callId, method: request.method, target: request.uri }, 'no open WebSocket flow for the target');
        if (request.method !== 'ACK' && onResponse) {
          const response = localResponse(request, 430);
          setImmediate(() => onResponse(response));
        }
        return true;
      }
      // CANCEL reuses its INVITE's Via (same branch); every other request gets a Via of its own.
      if (request.method !== 'CANCEL') {
        request.headers.via = [
          { version: '2.0', protocol: transport.protocol, host: deps.publicHost, port: transport.port, params: { branch: sipLib.generateBranch() } },
          ...(request.headers.via ?? []),
        ];
      }
      if (request.method === 'ACK') {
        transport.send(flow, request);
        return true;
      }
      const branch = String(request.headers.via[0]?.params.branch ?? '');
      const key = clientKey(branch, request.method);
      const t: ClientTransaction = { request, flow, onResponse: onResponse ?? (() => undefined), state: 'calling', timer: undefined };
      t.timer = later(() => {
        if (clients.get(key) !== t) return;
        clients.delete(key);
        deliver(t, localResponse(request, 408));
      }, TRANSACTION_MS);
      clients.set(key, t);
      if (!transport.send(flow, request)) {
        clients.delete(key);
        clearTimeout(t.timer);
        setImmediate(() => deliver(t, localResponse(request, 503)));
      }
      return true;
    },

    sendResponse(response) {
      const key = serverKey(response);
      const t = servers.get(key);
      if (!t) return false;
      // The peer may have gone mid-transaction: the answer has nowhere to go, and that is all.
      if (!transport.send(t.flow, response))
        log.debug({ type: 'sip_ws_response_undelivered', callId: response.headers['call-id'], status: response.status }, 'flow closed before the response');
      if (response.status >= 200 && t.timer === undefined) {
        t.absorbsAck = response.headers.cseq.method === 'INVITE' && response.status >= 300;
        // Kept a while: a 2xx to INVITE is resent until the ACK, and a refused INVITE's ACK is absorbed.
        t.timer = later(() => servers.delete(key), TRANSACTION_MS);
      }
      return true;
    },

    flowClosed(flow) {
      for (const [key, t] of servers) {
        if (!sameFlow(t.flow, flow)) continue;
        clearTimeout(t.timer);
        servers.delete(key);
      }
      for (const [key, t] of clients) {
        if (!sameFlow(t.flow, flow)) continue;
        clients.delete(key);
        clearTimeout(t.timer);
        if (t.state === 'calling' || t.state === 'proceeding') deliver(t, localResponse(t.request, 503));
      }
    },

    stop() {
      for (const t of clients.values()) clearTimeout(t.timer);
      for (const t of servers.values()) clearTimeout(t.timer);
      clients.clear();
      servers.clear();
    },
  };
}
