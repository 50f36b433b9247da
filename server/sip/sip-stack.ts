import crypto from 'node:crypto';
import dgram from 'node:dgram';
import type { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { keepSessionDescription } from './message-body.js';
import { reasonPhrase } from './reason-phrases.js';
import { sipLib } from './sip-lib.js';
import type { SipRemote, SipRequest, SipResponse, SipUri } from './sip-types.js';
import { createWsTransactions, type WsTransactions } from './ws-transactions.js';
import { startWsTransport, type WsTransport } from './ws-transport.js';

export interface SipStackOptions {
  host: string;
  port: number;
  publicHost: string;
  /** Addresses of the SIP edge; see `sourceOf`. */
  trustedEdges?: string[];
  logger: Logger;
  onRequest(request: SipRequest, remote: SipRemote): void;
  /** SIP over WebSocket for browsers (RFC 7118) on `host:ws.port`; WSS with `tls`. None when absent. */
  ws?: { port: number; tls?: { certFile: string; keyFile: string } | undefined } | undefined;
}

/**
 * Transport and transactions (UDP and TCP) from npm `sip`, typed, plus our own WebSocket transport
 * (ws-transport.ts) for browsers: a request to a `transport=ws` URI goes down the socket its phone
 * opened, and requests from a socket arrive with `remote.protocol` 'WS' or 'WSS'. It has no dialog
 * layer and does not retransmit 2xx to INVITE: the B2BUA above does both.
 */
export interface SipStack {
  readonly host: string;
  readonly port: number;
  /** Resolves once every transport listens (the WebSocket one binds asynchronously); rejects if one cannot. */
  readonly ready: Promise<void>;
  /** The WebSocket port bound, once ready (undefined without WebSocket). */
  wsPort(): number | undefined;
  /** Told when a WebSocket flow closes: whatever was reachable only through it is not any more. */
  onFlowClosed(listener: (flow: SipRemote) => void): void;
  send(request: SipRequest, onResponse?: (response: SipResponse) => void): void;
  /** Sends a response inside the request's server transaction, with the status's standard reason phrase. */
  reply(request: SipRequest, status: number, extra?: { headers?: Record<string, unknown>; content?: string }): SipResponse;
  /**
   * Refuses the request with the error's SIP status (500 when it has none) and its headers. A 4xx
   * explains itself in a Warning header (RFC 3261 20.43); a 5xx says nothing more.
   */
  replyError(request: SipRequest, error: AppError): SipResponse;
  /** Sends an already built response again (2xx retransmission until ACK). */
  resend(response: SipResponse): void;
  stop(): Promise<void>;
}

export const parseUri = (s: string): SipUri | undefined => {
  try {
    return sipLib.parseUri(s);
  } catch {
    return undefined;
  }
};
export const stringifyUri = (u: SipUri): string => sipLib.stringifyUri(u);
/** 48 random bits as 12 hex digits; randomUUID draws from a cached pool, ~4× cheaper than randomBytes(6) per tag. */
export const newTag = (): string => {
  const uuid = crypto.randomUUID();
  return uuid.slice(0, 8) + uuid.slice(9, 13);
};
export const newBranch = (): string => sipLib.generateBranch();

/** Receive buffer for the SIP UDP socket (the kernel caps it at net.core.rmem_max). */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * npm `sip` creates its UDP socket internally with the kernel's default buffer (~208 KB). A burst
 * of calls, or a GC pause, overflows that and the kernel drops SIP datagrams (measured: ~1000
 * drops in a 500 CPS step, each one a retransmission later or a failed call). Sockets created
 * while `create` runs get a bigger buffer once bound.
 */
function withLargeUdpBuffers<T>(create: () => T, log: Logger): T {
  const original = dgram.createSocket;
  const created: dgram.Socket[] = [];
  (dgram as { createSocket: typeof dgram.createSocket }).createSocket = ((...args: Parameters<typeof dgram.createSocket>) => {
    const socket = original.apply(dgram, args);
    created.push(socket);
    return socket;
  }) as typeof dgram.createSocket;
  try {
    return create();
  } finally {
    (dgram as { createSocket: typeof dgram.createSocket }).createSocket = original;
    for (const socket of created) {
      socket.once('listening', () => {
        try {
          socket.setRecvBufferSize(UDP_BUFFER_BYTES);
          socket.setSendBufferSize(UDP_BUFFER_BYTES);
        } catch (err) {
          log.warn({ err, type: 'sip_udp_buffer' }, 'could not enlarge the SIP UDP socket buffers');
        }
      });
    }
  }
}

/** Header the edge (infra/kamailio) adds to every request it relays: the address it received it from. */
export const EDGE_SOURCE_HEADER = 'x-calltrack-source';

/**
 * Behind the edge every request arrives from the edge's address, yet admission and in-dialog
 * checks need the trunk's. A request from a trusted edge is taken to come from the address in the
 * edge's header; from anyone else the header is ignored (headers can lie, the edge's cannot).
 */
export function sourceOf(request: SipRequest, remote: SipRemote, trustedEdges: readonly string[]): SipRemote {
  if (!trustedEdges.includes(remote.address)) return remote;
  const header = request.headers[EDGE_SOURCE_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  const match = typeof value === 'string' ? /^\s*([0-9a-fA-F.:]+?):(\d+)\s*$/.exec(value) : null;
  if (!match?.[1] || !match[2]) return remote;
  return { protocol: remote.protocol, address: match[1], port: Number(match[2]), relayedBy: remote.address };
}

function withSessionDescription(response: SipResponse): SipResponse {
  // A body we cannot read stays as it came: the answer's SDP parser then refuses it like any bad SDP.
  keepSessionDescription(response);
  return response;
}

export function createSipStack(options: SipStackOptions): SipStack {
  const log = options.logger;
  const raw = withLargeUdpBuffers(
    () =>
      sipLib.create(
        {
          address: options.host,
          port: options.port,
          publicAddress: options.publicHost,
          udp: true,
          tcp: true,
          logger: { error: (err: unknown) => log.warn({ err, type: 'sip_stack_error' }, 'sip stack error') },
        },
        (request, remote) => options.onRequest(request, sourceOf(request, remote, options.trustedEdges ?? [])),
      ),
    log,
  );
  const flowListeners: Array<(flow: SipRemote) => void> = [];
  let ws: { transport: WsTransport; transactions: WsTransactions } | undefined;
  let stopped = false;
  async function startWs(settings: NonNullable<SipStackOptions['ws']>): Promise<void> {
    let transactions: WsTransactions | undefined;
    const transport = await startWsTransport({
      host: options.host,
      port: settings.port,
      tls: settings.tls,
      logger: log,
      // No edge stands in front of a browser's socket: its address is the peer's own.
      onMessage: (message, remote) => transactions?.receive(message, remote),
      onFlowClosed(flow) {
        transactions?.flowClosed(flow);
        for (const listener of flowListeners) listener(flow);
      },
    });
    transactions = createWsTransactions({ transport, publicHost: options.publicHost, logger: log, onRequest: options.onRequest });
    ws = { transport, transactions };
    if (stopped) await stopWs();
  }
  async function stopWs(): Promise<void> {
    ws?.transactions.stop();
    await ws?.transport.close();
  }
  const ready = options.ws ? startWs(options.ws) : Promise.resolve();
  // Whoever awaits `ready` hears of a failure; nobody awaiting must not crash the process.
  ready.catch((err: unknown) => log.error({ err, type: 'sip_ws_listen_failed' }, 'SIP WebSocket transport could not listen'));

  function sendResponse(response: SipResponse): void {
    if (!ws?.transactions.sendResponse(response)) raw.send(response);
  }
  function reply(request: SipRequest, status: number, extra?: { headers?: Record<string, unknown>; content?: string; reason?: string }): SipResponse {
    const response = sipLib.makeResponse(request, status, extra?.reason ?? reasonPhrase(status), extra?.headers ? { headers: extra.headers } : undefined);
    // We speak SIP/2.0 whatever the request claimed (npm `sip` copies the request's version).
    response.version = '2.0';
    if (extra?.content !== undefined) {
      response.content = extra.content;
      response.headers['content-type'] = 'application/sdp';
    }
    sendResponse(response);
    return response;
  }
  return {
    host: options.publicHost,
    port: options.port,
    ready,
    wsPort: () => ws?.transport.port,
    onFlowClosed: (listener) => void flowListeners.push(listener),
    send(request, onResponse) {
      // An answer in a multipart body (a SIP-I gateway's 18x/2xx) reaches the dialogs as its SDP alone.
      const receive = onResponse && request.method === 'INVITE' ? (response: SipResponse) => onResponse(withSessionDescription(response)) : onResponse;
      if (!ws?.transactions.sendRequest(request, receive)) raw.send(request, receive);
    },
    reply,
    replyError(request, error) {
      const status = error.sipStatus ?? 500;
      // Warning text is a quoted-string: no quotes or line breaks from the message may end it early.
      const warning = status < 500 ? { warning: `${error.sipWarnCode ?? 399} ${options.publicHost} "${error.message.replace(/["\\\r\n]/g, ' ')}"` } : {};
      return reply(request, status, { headers: { ...error.sipHeaders, ...warning }, ...(error.sipReason ? { reason: error.sipReason } : {}) });
    },
    resend: sendResponse,
    async stop() {
      stopped = true;
      raw.destroy();
      await stopWs();
    },
  };
}
