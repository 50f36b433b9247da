import type { FastifySerializerCompiler } from 'fastify';

/**
 * For hot public routes: the reply as JSON without first re-checking it against its zod schema.
 * TypeScript already holds the handler to that schema, which still documents the route; the zod
 * serializer's encode pass cost more than the rest of the reply (bench:dni profile).
 *
 * @example app.post('/v1/dni/sessions', { schema, serializerCompiler: plainJsonSerializer }, handler)
 */
export const plainJsonSerializer: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);
