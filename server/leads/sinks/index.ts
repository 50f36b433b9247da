import type { SinkKind } from '../leads.schemas.js';
import { amocrmSink } from './amocrm.sink.js';
import { analyticsSink } from './analytics.sink.js';
import { bitrix24Sink } from './bitrix24.sink.js';
import { ga4Sink } from './ga4.sink.js';
import { googleAdsSink } from './google-ads.sink.js';
import { metricaSink } from './metrica.sink.js';
import { metricaOfflineSink } from './metrica-offline.sink.js';
import type { AnySinkHandler } from './sink.js';
import { webhookSink } from './webhook.sink.js';

export const SINK_HANDLERS: Record<SinkKind, AnySinkHandler> = {
  webhook: webhookSink,
  amocrm: amocrmSink,
  bitrix24: bitrix24Sink,
  ga4: ga4Sink,
  metrica: metricaSink,
  google_ads: googleAdsSink,
  metrica_offline: metricaOfflineSink,
  analytics: analyticsSink,
};
