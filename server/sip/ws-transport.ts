import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { Logger } from '../logger.js';
import { sipLib } from './sip-lib.js';
import type { SipMessage, SipRemote, SipUri } from './sip-types.js';

/** A SIP message is a few KiB; anything near this is junk or an attack (ws closes the socket with 1009). */
export const WS_MAX_PAYLOAD_BYTES = 64 * 1024;
/** A browser keeps one connection; a NAT of an office may hold a few dozen. */
const MAX_CONNECTIONS_PER_ADDRESS = 64;
const MAX_CONNECTIONS = 10_000;
/** Frames that are not SIP a peer may send before it is disconnected (a buggy client gets a few). */
const BAD_FRAMES_ALLOWED = 5;
/** A dead TCP path (laptop closed, Wi-Fi gone) is found by WebSocket pings, not by SIP OPTIONS. */
const PING_INTERVAL_MS = 30_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface WsTransportOptions {
  host: string;
  port: number;
  /** PEM files: WSS when given, plain WS otherwise. */
  tls?: { certFile: string; keyFile: string } | undefined;
  logger: Logger;
  onMessage(message: SipMessage, remote: SipRemote): void;
  onFlowClosed(remote: SipRemote): void;
}

/**
 * SIP over WebSocket (RFC 7118) for browser softphones: one SIP message per frame, subprotocol
 * `sip`, connections kept as flows by the peer's address and port. A browser cannot accept
 * connections, so everything we send it goes down the connection it opened; its Contact names an
 * unroutable `.invalid` host, so the Contacts a flow answered with lead back to it as well.
 */
export interface WsTransport {
  readonly protocol: 'WS' | 'WSS';
  /** The bound port (the configured one, or the kernel's choice for 0 in tests). */
  readonly port: number;
  /** The open flow a `transport=ws` URI leads to: by its address and port, or a Contact learnt on the flow. */
  flowFor(uri: SipUri): SipRemote | undefined;
  /**
   * Notes that `contact` (a browser's `sip:…@….invalid;transport=ws`) is reached over this flow. Only
   * for Contacts in answers to what we sent on the flow: a peer must not claim another's address.
   */
  learnContact(flow: SipRemote, contact: string): void;
  /** Sends on an open flow; false when it is gone. */
  send(flow: SipRemote, message: SipMessage): boolean;
  close(): Promise<void>;
}

interface Flow {
  remote: SipRemote;
  socket: WebSocket;
  contacts: Set<string>;
  alive: boolean;
  badFrames: number;
}

const flowKey = (address: string, port: number) => `${address}|${port}`;
/** Contacts compare by user, host and port (params differ between REGISTER and INVITE answers). */
const contactKey = (uri: SipUri) => `${uri.user ?? ''}@${uri.host.toLowerCase()}:${uri.port ?? ''}`;

/** What a frame claims to be: a parsed SIP message with the headers transactions need, or nothing. */
export function parseFrame(data: WebSocket.Data): SipMessage | undefined {
  // npm `sip` works on "binary" strings (one char per byte), as it does for UDP: Content-Length counts bytes.
  const text =
    typeof data === 'string'
      ? Buffer.from(data, 'utf8').toString('binary')
      : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data as Buffer)]).toString('binary');
  let message: SipMessage | undefined;
  try {
    message = sipLib.parse(text);
  } catch {
    return undefined;
  }
  if (!message?.headers) return undefined;
  const h = message.headers;
  const shaped =
    ('method' in message ? typeof message.method === 'string' : message.status >= 100 && message.status <= 699) &&
    Array.isArray(h.via) &&
    h.via.length > 0 &&
    typeof h.via[0]?.params === 'object' &&
    typeof h['call-id'] === 'string' &&
    typeof h.to?.uri === 'string' &&
    typeof h.from?.uri === 'string' &&
    typeof h.cseq?.method === 'string';
  return shaped ? message : undefined;
}

/**
 * Listens for SIP WebSocket connections on `host:port` only.
 *
 * @example
 *   const ws = await startWsTransport({ host: '127.0.0.1', port: 5066, logger, onMessage, onFlowClosed });
 *   ws.send(remote, response);
 *   await ws.close();
 */
export async function startWsTransport(options: WsTransportOptions): Promise<WsTransport> {
  const protocol = options.tls ? 'WSS' : 'WS';
  const log = options.logger.child({ component: 'sip-ws' });
  const flows = new Map<string, Flow>();
  const byContact = new Map<string, Flow>();
  const perAddress = new Map<string, number>();

  // A plain GET (no upgrade) learns nothing: this port speaks only WebSocket.
  const answerPlain = (_request: http.IncomingMessage, response: http.ServerResponse) => {
    response.writeHead(426, { connection: 'close', upgrade: 'websocket' }).end();
  };
  const server = options.tls
    ? https.createServer({ cert: fs.readFileSync(options.tls.certFile), key: fs.readFileSync(options.tls.keyFile) }, answerPlain)
    : http.createServer(answerPlain);
  // Half-open handshakes must not pile up (a connection flood holds sockets, not memory).
  server.headersTimeout = HANDSHAKE_TIMEOUT_MS;
  server.requestTimeout = HANDSHAKE_TIMEOUT_MS;
  server.on('clientError', (_err, socket) => socket.destroy());
  const wss = new WebSocket.Server({ noServer: true, maxPayload: WS_MAX_PAYLOAD_BYTES, clientTracking: false, handleProtocols: () => 'sip' });

  const refuse = (socket: Duplex, status: string, why: string, address: string | undefined) => {
    log.warn({ type: 'sip_ws_refused', why, from: address }, 'SIP WebSocket handshake refused');
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  };

  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const address = request.socket.remoteAddress;
    const offered = String(request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim().toLowerCase());
    // RFC 7118 4: without the `sip` subprotocol the peer is not a SIP client.
    if (!offered.includes('sip')) return refuse(socket, '400 Bad Request', 'no sip subprotocol offered', address);
    if (!address) return refuse(socket, '400 Bad Request', 'no peer address', address);
    if (flows.size >= MAX_CONNECTIONS || (perAddress.get(address) ?? 0) >= MAX_CONNECTIONS_PER_ADDRESS)
      return refuse(socket, '503 Service Unavailable', 'too many connections', address);
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    };
    socket.once('close', uncount);
    wss.handleUpgrade(request, socket as net.Socket, head, (ws) => attach(ws, address, request.socket.remotePort ?? 0, uncount));
  });

  function attach(socket: WebSocket, address: string, port: number, uncount: () => void): void {
    const flow: Flow = { remote: { protocol, address, port }, socket, contacts: new Set(), alive: true, badFrames: 0 };
    const key = flowKey(address, port);
    flows.set(key, flow);
    socket.on('pong', () => {
      flow.alive = true;
    });
    socket.on('error', (err) => log.warn({ err, type: 'sip_ws_socket_error', from: `${address}:${port}` }, 'SIP WebSocket error; closing it'));
    socket.on('close', () => {
      uncount();
      if (flows.get(key) !== flow) return;
      flows.delete(key);
      for (const contact of flow.contacts) if (byContact.get(contact) === flow) byContact.delete(contact);
      try {
        options.onFlowClosed(flow.remote);
      } catch (err) {
        log.warn({ err, type: 'sip_ws_close_failed' }, 'flow close handling failed');
      }
    });
    socket.on('message', (data) => receive(flow, data));
  }

  function receive(flow: Flow, data: WebSocket.Data): void {
    flow.alive = true;
    const message = parseFrame(data);
    if (!message) {
      flow.badFrames++;
      log.warn(
        { type: 'sip_ws_bad_frame', from: `${flow.remote.address}:${flow.remote.port}`, bytes: byteLength(data) },
        'frame is not a SIP message; dropped',
      );
      if (flow.badFrames > BAD_FRAMES_ALLOWED) flow.socket.close(1008, 'not SIP');
      return;
    }
    if ('method' in message) message.headers.via[0]!.params.received = flow.remote.address;
    try {
      options.onMessage(message, flow.remote);
    } catch (err) {
      log.warn({ err, type: 'sip_ws_message_failed', callId: message.headers['call-id'] }, 'SIP message over WebSocket failed');
    }
  }

  const heartbeat = setInterval(() => {
    for (const flow of flows.values()) {
      if (!flow.alive) {
        log.info({ type: 'sip_ws_dead', from: `${flow.remote.address}:${flow.remote.port}` }, 'no pong: SIP WebSocket closed');
        flow.socket.terminate();
        continue;
      }
      flow.alive = false;
      flow.socket.ping();
    }
  }, PING_INTERVAL_MS);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.warn({ err, type: 'sip_ws_server_error' }, 'SIP WebSocket server error'));
  const bound = server.address();
  log.info(
    { type: 'sip_ws_listening', address: `${options.host}:${typeof bound === 'object' && bound ? bound.port : options.port}`, protocol },
    'SIP over WebSocket',
  );

  return {
    protocol,
    port: typeof bound === 'object' && bound ? bound.port : options.port,
    flowFor(uri) {
      // Only URIs that ask for WebSocket: a UDP or TCP phone is never diverted to a socket.
      const transport = String(uri.params?.transport ?? '').toLowerCase();
      if (transport !== 'ws' && transport !== 'wss') return undefined;
      const direct = uri.port !== undefined ? flows.get(flowKey(uri.host, uri.port)) : undefined;
      return (direct ?? byContact.get(contactKey(uri)))?.remote;
    },
    learnContact(remote, contact) {
      const flow = flows.get(flowKey(remote.address, remote.port));
      const uri = safeParseUri(contact);
      if (!flow || !uri?.host) return;
      const key = contactKey(uri);
      flow.contacts.add(key);
      byContact.set(key, flow);
    },
    send(remote, message) {
      const flow = flows.get(flowKey(remote.address, remote.port));
      if (!flow || flow.socket.readyState !== WebSocket.OPEN) return false;
      flow.socket.send(Buffer.from(sipLib.stringify(message), 'binary'), { binary: false }, (err) => {
        if (err) log.warn({ err, type: 'sip_ws_send_failed', callId: message.headers['call-id'] }, 'could not send over SIP WebSocket');
      });
      return true;
    },
    async close() {
      clearInterval(heartbeat);
      for (const flow of flows.values()) flow.socket.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function safeParseUri(uri: string): SipUri | undefined {
  try {
    return sipLib.parseUri(uri);
  } catch {
    return undefined;
  }
}

const byteLength = (data: WebSocket.Data) =>
  typeof data === 'string' ? Buffer.byteLength(data) : Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength;
