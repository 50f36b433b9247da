import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { E164, IdParams } from '../shared/schemas.js';
import { releaseSourceNumbers, sourceNumbers } from './sources-quarantine.repository.js';

export const ReleaseBody = z.object({
  numbers: z.array(E164).min(1).max(1000),
  quarantineDays: z
    .number()
    .int()
    .min(0)
    .max(365)
    .default(30)
    .meta({ description: 'Days before a pool may take the number (late callers from the print run)' }),
});

export const ReleaseResponse = z.object({ released: z.array(z.object({ number: z.string(), quarantineUntil: z.string() })) });

/** Printable QR of a static number's tel: link, and releasing numbers into quarantine. */
export function sourceQrRoutes({ db, onChange }: { db: Db; onChange?: () => void }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/sources/:id/qr.svg',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'SVG QR code of tel:<number> for print',
          params: IdParams,
          querystring: z.object({ number: E164.optional().meta({ description: 'One of the source’s numbers (default: its first)' }) }),
          response: { 200: z.string().meta({ description: 'image/svg+xml' }) },
        },
        config: { roles: ANY_ROLE },
      },
      async (request, reply) => {
        const numbers = await sourceNumbers(db, principalOf(request).accountId, request.params.id);
        if (!numbers) throw ERRORS.notFound('source', request.params.id);
        const number = request.query.number ?? numbers[0];
        if (!number) throw ERRORS.validation('the source has no numbers');
        if (!numbers.includes(number)) throw ERRORS.validation(`${number} does not belong to this source`);
        // Level M survives a little ink spread or a crease; margin 4 is the quiet zone the spec asks for.
        const svg = await QRCode.toString(`tel:${number}`, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
        return reply.type('image/svg+xml').header('cache-control', 'private, max-age=3600').send(svg);
      },
    );

    app.post(
      '/v1/sources/:id/release',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'Take numbers off a static source; they wait in quarantine before any pool may use them',
          params: IdParams,
          body: ReleaseBody,
          response: { 200: ReleaseResponse },
        },
        // Releasing changes where calls to those numbers go (quarantine, then pools): routing, admin only.
        config: { roles: ['admin'] },
      },
      async (request) => {
        const accountId = principalOf(request).accountId;
        const numbers = await sourceNumbers(db, accountId, request.params.id);
        if (!numbers) throw ERRORS.notFound('source', request.params.id);
        const foreign = request.body.numbers.filter((n) => !numbers.includes(n));
        if (foreign.length > 0) throw ERRORS.validation(`not numbers of this source: ${foreign.join(', ')}`);
        const released = await releaseSourceNumbers(db, accountId, request.params.id, request.body.numbers, request.body.quarantineDays);
        onChange?.();
        return { released: released.map((r) => ({ number: r.number, quarantineUntil: r.quarantineUntil.toISOString() })) };
      },
    );
  };
}
