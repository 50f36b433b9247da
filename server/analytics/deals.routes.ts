import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { CrmInboundService } from './crm-inbound.service.js';
import { AmoInboundBody, Bitrix24InboundBody, ConversionBody, CrmInbound, Deal } from './deals.schemas.js';
import type { DealService } from './deals.service.js';

/** Deals carry money: the people who run sales and marketing report them; viewers do not. */
const REPORTERS = ['admin', 'manager', 'marketer'] as const;
const FormBody = z.record(z.string(), z.string()).meta({ description: 'application/x-www-form-urlencoded fields, as the CRM sends them' });
const Accepted = z.object({ deals: z.number().int() });

export function dealRoutes({ deals, crm, publicBaseUrl }: { deals: DealService; crm: CrmInboundService; publicBaseUrl: string }): FastifyPluginAsyncZod {
  return async (app) => {
    // Both CRMs post form-encoded webhooks; keys stay flat ("leads[status][0][id]") for the parsers.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) => {
      const fields: Record<string, string> = {};
      for (const [key, value] of new URLSearchParams(String(body))) fields[key] = value;
      done(null, fields);
    });

    app.post(
      '/v1/conversions',
      {
        schema: {
          tags: ['roi'],
          summary: 'Report a deal stage and revenue; the same externalId again updates that deal (stages only move forward)',
          body: ConversionBody,
          response: { 200: Deal, 201: Deal },
        },
        config: { roles: REPORTERS },
      },
      async (request, reply) => {
        const body = request.body;
        const deal = await deals.report(principalOf(request).accountId, {
          origin: 'api',
          externalId: body.externalId,
          stage: body.stage,
          revenue: body.revenue,
          currency: body.currency,
          at: body.at,
          link: { callId: body.callId, visitorId: body.visitorId, gaClientId: body.gaClientId, phone: body.phone },
        });
        return reply.status(deal.created ? 201 : 200).send(deal);
      },
    );

    app.post(
      '/v1/crm/amocrm/:token',
      {
        schema: {
          tags: ['roi'],
          summary: 'amoCRM lead webhook (leads[status|add|update][n][id|status_id|price]); 142 = won, 143 = lost',
          params: z.object({ token: z.string().min(1).max(200) }),
          body: FormBody,
          response: { 200: Accepted },
        },
        // The secret token in the path is the credential: amoCRM cannot send our API key.
        config: { public: true },
      },
      async (request) => crm.amocrm(request.params.token, request.body),
    );

    app.post(
      '/v1/crm/bitrix24',
      {
        schema: {
          tags: ['roi'],
          summary: 'Bitrix24 outgoing webhook ONCRMDEALUPDATE (verified by auth[application_token]; the deal is read with crm.deal.get)',
          body: FormBody,
          response: { 200: Accepted },
        },
        config: { public: true },
      },
      async (request) => crm.bitrix24(request.body),
    );

    app.get(
      '/v1/crm/inbound',
      { schema: { tags: ['roi'], summary: 'URLs and tokens to paste into the CRMs', response: { 200: CrmInbound } }, config: { roles: ['admin'] } },
      async (request) => {
        const settings = await crm.settings(principalOf(request).accountId);
        const amo = settings.find((s) => s.kind === 'amocrm');
        const bitrix = settings.find((s) => s.kind === 'bitrix24');
        return {
          amocrm: amo ? { url: `${publicBaseUrl}/v1/crm/amocrm/${amo.token}`, token: amo.token } : null,
          bitrix24: bitrix
            ? { url: `${publicBaseUrl}/v1/crm/bitrix24`, configured: true, qualifiedStages: (bitrix.config.qualifiedStages as string[] | undefined) ?? [] }
            : null,
        };
      },
    );

    app.post(
      '/v1/crm/inbound/amocrm',
      {
        schema: {
          tags: ['roi'],
          summary: 'Create or rotate the amoCRM webhook URL (the old URL stops working)',
          body: AmoInboundBody,
          response: { 201: z.object({ url: z.string(), token: z.string() }) },
        },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        const token = await crm.setupAmo(principalOf(request).accountId, request.body);
        return reply.status(201).send({ url: `${publicBaseUrl}/v1/crm/amocrm/${token}`, token });
      },
    );

    app.put(
      '/v1/crm/inbound/bitrix24',
      {
        schema: {
          tags: ['roi'],
          summary: 'Set the application token of the Bitrix24 outgoing webhook (ONCRMDEALUPDATE → our /v1/crm/bitrix24)',
          body: Bitrix24InboundBody,
          response: { 200: z.object({ url: z.string() }) },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        await crm.setupBitrix(principalOf(request).accountId, request.body);
        return { url: `${publicBaseUrl}/v1/crm/bitrix24` };
      },
    );
  };
}
