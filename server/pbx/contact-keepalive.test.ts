import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../sip/sip-types.js';
import { startContactKeepalive } from './contact-keepalive.js';

const edgePath = [{ uri: 'sip:127.0.15.3:5060;lr', params: {} }];

describe(startContactKeepalive.name, () => {
  it('pings a phone registered through the SIP edge by the way it registered (its Path as Route), others directly', async () => {
    const sent: SipRequest[] = [];
    const keepalive = startContactKeepalive({
      stack: { host: '127.0.0.1', send: (request) => void sent.push(request) },
      registrar: { drop: async () => undefined },
      intervalMs: 20,
      logger: pino({ level: 'silent' }),
    });
    const expiresAt = Date.now() + 60_000;
    keepalive.track({
      status: 200,
      registered: {
        extensionId: 'ext',
        bindings: [
          { contact: 'sip:201@10.0.0.7:5060', target: 'sip:201@203.0.113.7:40000', expiresAt, source: 'udp:203.0.113.7:40000', path: edgePath },
          { contact: 'sip:202@127.0.0.8:5060', target: 'sip:202@127.0.0.8:5060', expiresAt, source: 'udp:127.0.0.8:5060' },
        ],
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    keepalive.stop();
    const behindEdge = sent.find((request) => request.uri === 'sip:201@203.0.113.7:40000');
    const direct = sent.find((request) => request.uri === 'sip:202@127.0.0.8:5060');
    expect(behindEdge?.headers.route).toEqual(edgePath);
    // A copy: npm `sip` shifts Route entries off as it sends, the binding's must stay.
    expect(behindEdge?.headers.route).not.toBe(edgePath);
    expect(direct).toBeDefined();
    expect(direct?.headers).not.toHaveProperty('route');
  });
});
