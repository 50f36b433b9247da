import { sourceDates, upsertCallFact } from '../leads.repository.js';
import { AnalyticsConfig } from '../leads.schemas.js';
import type { SinkHandler } from './sink.js';

/** The internal analytics store: one call_facts row per completed call, updated when tags/score/value change. */
export const analyticsSink: SinkHandler<Record<string, never>> = {
  kind: 'analytics',
  parseConfig: (raw) => AnalyticsConfig.parse(raw ?? {}) as Record<string, never>,
  async deliver({ payload, db }) {
    const sourceId = payload.attribution.source_id;
    await upsertCallFact(db, payload, sourceId ? await sourceDates(db, sourceId) : undefined);
    return { status: 'delivered' };
  },
};
