import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { probeOptions } from './trunk-probe.js';

const ProbeBody = z.object({
  target: z
    .string()
    .trim()
    .regex(/^(sip:)?[A-Za-z0-9.-]+(:\d{1,5})?$/, 'host or host:port (IPv4 or a name), e.g. 203.0.113.10:5060')
    .refine((t) => {
      const port = t.replace(/^sip:/, '').split(':')[1];
      return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
    }, 'the port must be 1-65535')
    .meta({ example: '203.0.113.10:5060' }),
  timeoutMs: z.number().int().min(100).max(10_000).default(3_000),
});

const ProbeResult = z.object({
  target: z.string(),
  answered: z.boolean(),
  status: z.number().int().nullable(),
  reason: z.string().nullable(),
  rttMs: z.number().nullable(),
  server: z.string().nullable().meta({ description: 'Server or User-Agent of the answer' }),
});

/** The Trunks page's test button: one SIP OPTIONS from our SIP address to a carrier, and its answer. */
export function trunkProbeRoutes({ bindHost, advertiseHost }: { bindHost: string; advertiseHost?: string }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/trunks/options-probe',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'Send a SIP OPTIONS over UDP to a carrier or SBC and report its answer (status, round trip, Server header)',
          body: ProbeBody,
          response: { 200: ProbeResult },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const [host, port] = request.body.target.replace(/^sip:/, '').split(':');
        const portNumber = port ? Number(port) : 5060;
        const result = await probeOptions({
          host: host!,
          port: portNumber,
          bindHost,
          ...(advertiseHost ? { advertiseHost } : {}),
          timeoutMs: request.body.timeoutMs,
        });
        return { target: `${host}:${portNumber}`, ...result };
      },
    );
  };
}
