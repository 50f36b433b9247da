import dgram from 'node:dgram';
import { z } from 'zod';
import type { Logger } from '../logger.js';

const DtmfEvent = z.object({ callid: z.string(), event: z.number().int().min(0).max(15), source_tag: z.string().optional() });
const DIGITS = '0123456789*#ABCD';

/** rtpengine's --dtmf-log-dest datagrams (one JSON object per event), routed to calls by call-id. */
export interface DtmfListener {
  subscribe(callId: string, onDigit: (digit: string) => void): () => void;
  close(): Promise<void>;
}

export async function startDtmfListener(address: { host: string; port: number }, logger: Logger): Promise<DtmfListener> {
  const subscribers = new Map<string, (digit: string) => void>();
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('message', (msg) => {
    logger.debug({ type: 'dtmf_datagram', size: msg.length, text: msg.toString('utf8').slice(0, 300) }, 'dtmf datagram');
    try {
      const parsed = DtmfEvent.safeParse(JSON.parse(msg.toString('utf8')));
      if (!parsed.success) return;
      const digit = DIGITS[parsed.data.event];
      if (digit) subscribers.get(parsed.data.callid)?.(digit);
    } catch {
      // Not JSON: not from rtpengine; ignore.
    }
  });
  socket.on('error', (err) => logger.warn({ err, type: 'dtmf_socket_error' }, 'dtmf listener error'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(address.port, address.host, () => resolve());
  });
  return {
    subscribe(callId, onDigit) {
      subscribers.set(callId, onDigit);
      return () => subscribers.delete(callId);
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
