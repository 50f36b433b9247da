import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, ErrorCode } from '../errors.js';

/** The only place that turns failures into HTTP answers: `{ error, message }`, 5xx details hidden. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    if (err instanceof AppError) {
      if (err.httpStatus >= 500) request.log.error({ err, type: 'app_error' }, err.message);
      return reply.status(err.httpStatus).send({ error: err.code, message: err.message });
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const message = err.validation
        .map((v) => {
          const where = `${err.validationContext ?? 'request'}${v.instancePath ? v.instancePath.replaceAll('/', '.') : ''}`;
          return `${where}: ${v.message}`;
        })
        .join('; ');
      return reply.status(400).send({ error: ErrorCode.validation, message });
    }
    if (isResponseSerializationError(err)) {
      request.log.error({ err, type: 'response_serialization' }, 'response did not match its schema');
      return reply.status(500).send({ error: ErrorCode.internal, message: 'internal error' });
    }
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status < 500) {
      const code =
        status === 429 ? ErrorCode.rateLimited : status === 404 ? ErrorCode.notFound : status === 401 ? ErrorCode.unauthenticated : ErrorCode.validation;
      return reply.status(status).send({ error: code, message: err.message });
    }
    request.log.error({ err, type: 'unhandled_error' }, 'request failed');
    return reply.status(500).send({ error: ErrorCode.internal, message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: ErrorCode.notFound, message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
