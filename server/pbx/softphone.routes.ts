import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { ErrorBody } from '../shared/schemas.js';
import * as repo from './extensions.repository.js';
import type { SoftphoneCredentials } from './softphone-credentials.js';

export const IssuedSoftphoneCredentials = z.object({
  extension: z.string().meta({ description: 'the extension number, e.g. 101' }),
  username: z.string().meta({ description: 'digest username for REGISTER (carries its expiry)' }),
  password: z.string().meta({ description: 'digest password, valid until expiresAt, only over the WebSocket' }),
  realm: z.string(),
  wsUrl: z.string().meta({ description: 'where the softphone connects (subprotocol `sip`)' }),
  expiresAt: z.string().meta({ description: 'REGISTERs after this need new credentials' }),
});

/**
 * The browser softphone's SIP credentials: short-lived and issued to the signed-in user for the
 * extension linked to them, so no stored SIP password ever reaches a page. Same roles as reading
 * extensions (admins and managers).
 */
export function softphoneRoutes(deps: { db: Db; softphone: SoftphoneCredentials; realm: string; wsUrl: string | undefined }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/softphone/credentials',
      {
        schema: {
          tags: ['pbx'],
          summary: 'Short-lived SIP credentials for the browser softphone of the signed-in user’s extension',
          response: { 200: IssuedSoftphoneCredentials, 404: ErrorBody, 409: ErrorBody },
        },
        config: { roles: ['admin', 'manager'] },
      },
      async (request) => {
        const principal = principalOf(request);
        if (!deps.wsUrl) throw ERRORS.softphoneOff();
        if (!principal.userId) throw ERRORS.softphoneNeedsUser();
        const extension = await repo.findByUser(deps.db, principal.accountId, principal.userId);
        if (!extension) throw ERRORS.noSoftphoneExtension();
        const issued = deps.softphone.issue(extension);
        request.log.info({ type: 'softphone_credentials', extension: extension.extension, expiresAt: issued.expiresAt }, 'softphone credentials issued');
        return {
          extension: extension.extension,
          username: issued.username,
          password: issued.password,
          realm: deps.realm,
          wsUrl: deps.wsUrl,
          expiresAt: issued.expiresAt.toISOString(),
        };
      },
    );
  };
}
