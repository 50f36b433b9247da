import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { ErrorBody } from '../shared/schemas.js';
import * as repo from './leads.repository.js';
import type { EgressPolicy } from './sinks/egress.js';
import {
  CreateSinkBody,
  DeliveriesQuery,
  Delivery,
  DeliveryParams,
  KIND_EVENTS,
  maskConfig,
  Sink,
  SinkParams,
  SinkTestResult,
  UpdateSinkBody,
} from './leads.schemas.js';
import { sendTestLead } from './sink-test.js';

function toSink(r: repo.SinkRow): Sink {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    config: maskConfig(r.config),
    events: r.events,
    enabled: r.enabled,
    disabledReason: r.disabled_reason,
    createdAt: r.created_at.toISOString(),
  };
}

/** Config fields that hold a URL the workers will request. */
const URL_FIELDS = ['url', 'baseUrl', 'webhookUrl'] as const;

/** Sink administration (admin only: configs hold credentials, even masked). */
export function leadRoutes({ db, egress, onChange }: { db: Db; egress: EgressPolicy; onChange?: () => void }): FastifyPluginAsyncZod {
  return async (app) => {
    async function sinkOf(accountId: string, id: string): Promise<repo.SinkRow> {
      const sink = await repo.findSink(db, accountId, id);
      if (!sink) throw ERRORS.notFound('sink', id);
      return sink;
    }

    app.post(
      '/v1/sinks',
      {
        schema: {
          tags: ['leads'],
          summary: 'Add a lead sink (webhook, amocrm, bitrix24, ga4, metrica, analytics)',
          body: CreateSinkBody,
          response: { 201: Sink, 400: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        const { kind, config } = request.body;
        // Refused here for a clear answer; delivery checks again after DNS resolution (names can change).
        for (const field of URL_FIELDS) {
          const value = (config as Record<string, unknown>)[field];
          const refused = typeof value === 'string' ? await egress.checkUrl(value) : undefined;
          if (refused) throw ERRORS.validation(`config.${field}: ${refused}`);
        }
        const events = kind === 'webhook' ? (request.body.config.events ?? KIND_EVENTS.webhook) : KIND_EVENTS[kind];
        const created = await repo.insertSink(db, { accountId: principalOf(request).accountId, kind, name: request.body.name ?? kind, config, events });
        return reply.status(201).send(toSink(created));
      },
    );

    app.get(
      '/v1/sinks',
      {
        schema: { tags: ['leads'], summary: 'List lead sinks (secrets masked)', response: { 200: z.object({ items: z.array(Sink) }) } },
        config: { roles: ['admin'] },
      },
      async (request) => ({ items: (await repo.listSinks(db, principalOf(request).accountId)).map(toSink) }),
    );

    app.get(
      '/v1/sinks/:id',
      {
        schema: { tags: ['leads'], params: SinkParams, response: { 200: Sink, 404: ErrorBody } },
        config: { roles: ['admin'] },
      },
      async (request) => toSink(await sinkOf(principalOf(request).accountId, request.params.id)),
    );

    app.delete(
      '/v1/sinks/:id',
      {
        schema: { tags: ['leads'], summary: 'Delete a sink and its delivery history', params: SinkParams, response: { 204: z.null(), 404: ErrorBody } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        if (!(await repo.deleteSink(db, principalOf(request).accountId, request.params.id))) throw ERRORS.notFound('sink', request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.patch(
      '/v1/sinks/:id',
      {
        schema: {
          tags: ['leads'],
          summary: 'Rename a sink or change its settings (fields left out keep their value, secrets included)',
          params: SinkParams,
          body: UpdateSinkBody,
          response: { 200: Sink, 400: ErrorBody, 404: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const { accountId } = principalOf(request);
        const stored = await sinkOf(accountId, request.params.id);
        const parsed = CreateSinkBody.safeParse({
          kind: stored.kind,
          name: request.body.name ?? stored.name,
          config: { ...stored.config, ...request.body.config },
        });
        if (!parsed.success) throw ERRORS.validation(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        const { kind, config } = parsed.data;
        for (const field of URL_FIELDS) {
          const value = (config as Record<string, unknown>)[field];
          const refused = typeof value === 'string' && value !== stored.config[field] ? await egress.checkUrl(value) : undefined;
          if (refused) throw ERRORS.validation(`config.${field}: ${refused}`);
        }
        const events = kind === 'webhook' ? (parsed.data.config.events ?? KIND_EVENTS.webhook) : KIND_EVENTS[kind];
        const updated = await repo.updateSink(db, accountId, stored.id, { name: parsed.data.name ?? stored.name, config, events });
        onChange?.();
        return toSink(updated);
      },
    );

    app.post(
      '/v1/sinks/:id/test',
      {
        schema: {
          tags: ['leads'],
          summary: 'Send a made-up answered call to the sink now and report what the receiver did (not queued, not retried)',
          params: SinkParams,
          response: { 200: SinkTestResult, 400: ErrorBody, 404: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const sink = await sinkOf(principalOf(request).accountId, request.params.id);
        if (!KIND_EVENTS[sink.kind].includes('call.completed'))
          throw ERRORS.validation(`a ${sink.kind} sink only takes ${KIND_EVENTS[sink.kind].join(', ')} events: it has no test call to send`);
        return sendTestLead(sink, { db, egress });
      },
    );

    for (const action of ['disable', 'enable'] as const) {
      app.post(
        `/v1/sinks/:id/${action}`,
        {
          schema: {
            tags: ['leads'],
            summary: `${action === 'disable' ? 'Stop' : 'Resume'} deliveries to a sink`,
            params: SinkParams,
            response: { 200: Sink, 404: ErrorBody },
          },
          config: { roles: ['admin'] },
        },
        async (request) => {
          const { accountId } = principalOf(request);
          await sinkOf(accountId, request.params.id);
          await repo.disableSink(db, request.params.id, action === 'disable' ? 'disabled by an admin' : null, action === 'enable');
          onChange?.();
          return toSink(await sinkOf(accountId, request.params.id));
        },
      );
    }

    app.get(
      '/v1/sinks/:id/deliveries',
      {
        schema: {
          tags: ['leads'],
          summary: 'Deliveries to a sink, newest first: status, attempts, last error, next attempt',
          params: SinkParams,
          querystring: DeliveriesQuery,
          response: { 200: z.object({ items: z.array(Delivery) }), 404: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        await sinkOf(principalOf(request).accountId, request.params.id);
        return { items: await repo.listDeliveries(db, request.params.id, request.query) };
      },
    );

    app.post(
      '/v1/sinks/:id/deliveries/:deliveryId/replay',
      {
        schema: {
          tags: ['leads'],
          summary: 'Re-queue a dead delivery (and the later events of its call that died behind it)',
          params: DeliveryParams,
          response: { 200: z.object({ replayed: z.number().int() }), 404: ErrorBody, 409: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        await sinkOf(principalOf(request).accountId, request.params.id);
        const d = await repo.findDelivery(db, request.params.id, request.params.deliveryId);
        if (!d) throw ERRORS.notFound('delivery', request.params.deliveryId);
        if (d.status !== 'dead') throw ERRORS.conflict(`delivery ${d.id} is ${d.status}; only dead deliveries are replayed`);
        onChange?.();
        return { replayed: await repo.replay(db, request.params.id, d.id) };
      },
    );

    app.post(
      '/v1/sinks/:id/replay-dead',
      {
        schema: {
          tags: ['leads'],
          summary: 'Re-queue every dead delivery of a sink',
          params: SinkParams,
          response: { 200: z.object({ replayed: z.number().int() }), 404: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        await sinkOf(principalOf(request).accountId, request.params.id);
        const replayed = await repo.replay(db, request.params.id, null);
        onChange?.();
        return { replayed };
      },
    );
  };
}
