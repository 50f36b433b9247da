import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERRORS } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import type { ApiKeyService } from './api-keys.service.js';
import { ApiKeyView, CreateApiKeyBody, CreatedApiKey } from './auth.schemas.js';

export function apiKeyRoutes({ apiKeys }: { apiKeys: ApiKeyService }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/api-keys',
      {
        schema: { tags: ['access'], summary: 'Create an API key (the key is returned once)', body: CreateApiKeyBody, response: { 201: CreatedApiKey } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => reply.status(201).send(await apiKeys.create(principalOf(request).accountId, request.body.name, request.body.role)),
    );

    app.get(
      '/v1/api-keys',
      {
        schema: { tags: ['access'], response: { 200: z.object({ items: z.array(ApiKeyView) }) } },
        config: { roles: ['admin'] },
      },
      async (request) => ({ items: await apiKeys.list(principalOf(request).accountId) }),
    );

    app.delete(
      '/v1/api-keys/:id',
      {
        schema: { tags: ['access'], summary: 'Revoke an API key', params: IdParams, response: { 204: z.null() } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        if (!(await apiKeys.revoke(principalOf(request).accountId, request.params.id))) throw ERRORS.notFound('api key', request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
