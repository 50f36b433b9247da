import crypto from 'node:crypto';
import type { Queryable } from '../db/pool.js';
import type { LeadPayload } from './lead-payload.js';
import type { SinkRow } from './leads.repository.js';
import type { EgressPolicy } from './sinks/egress.js';
import { SINK_HANDLERS } from './sinks/index.js';
import { DeliveryError } from './sinks/sink.js';

export interface SinkTestOutcome {
  outcome: 'delivered' | 'skipped' | 'failed';
  httpStatus: number | null;
  message: string;
  durationMs: number;
}

/**
 * A made-up answered call, sent once to one sink so an admin sees the receiver accept it before a
 * real lead depends on it. It goes straight to the sink, not through the outbox: nothing is
 * retried and the deliveries log (real leads only) stays clean.
 */
export function testLeadPayload(accountId: string, now = new Date()): LeadPayload {
  const id = crypto.randomUUID();
  const started = new Date(now.getTime() - 95_000);
  const answered = new Date(started.getTime() + 5_000);
  return {
    version: 1,
    id,
    type: 'call.completed',
    occurred_at: now.toISOString(),
    account_id: accountId,
    change: null,
    call: {
      id,
      sip_call_id: `test-${id}`,
      direction: 'inbound',
      status: 'answered',
      answered: true,
      voicemail: false,
      start_time: started.toISOString(),
      answer_time: answered.toISOString(),
      end_time: now.toISOString(),
      duration: 95,
      talk_time: 90,
      ring_time: 5,
      caller_number: '+70000000000',
      caller_name: 'Test call',
      tracking_number: '+70000000001',
      business_number: null,
      agent: null,
      hangup_by: 'caller',
      final_sip_status: 200,
      ivr_digits: null,
      dialplan: null,
      first_call: true,
      prior_calls: 0,
      tags: ['test'],
      notes: [],
      note: 'A test event sent from the Integrations page',
      score: null,
      value: null,
      recording_status: 'none',
      recording_url: null,
      recording_duration: null,
    },
    attribution: {
      confidence: 'none',
      overflow: false,
      reason: 'test event',
      session_id: null,
      source_id: null,
      source: 'test',
      medium: 'test',
      campaign: null,
      keyword: null,
      landing_page_url: null,
      referring_url: null,
      utm_source: null,
      utm_medium: null,
      utm_campaign: null,
      utm_term: null,
      utm_content: null,
      gclid: null,
      gbraid: null,
      wbraid: null,
      yclid: null,
      fbclid: null,
      msclkid: null,
      ga_client_id: null,
      ym_client_id: null,
      visitor_id: null,
      source_name: null,
      source_channel: null,
      source_cost: null,
      source_currency: null,
    },
  };
}

/** Sends the test lead to the sink now and says what the receiver did. */
export async function sendTestLead(sink: SinkRow, deps: { db: Queryable; egress: EgressPolicy; timeoutMs?: number }): Promise<SinkTestOutcome> {
  const handler = SINK_HANDLERS[sink.kind];
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  try {
    const result = await handler.deliver({
      config: handler.parseConfig(sink.config),
      payload: testLeadPayload(sink.account_id),
      idempotencyKey: `test_${crypto.randomUUID()}`,
      attempt: 1,
      sinkId: sink.id,
      progress: {},
      saveProgress: async () => {},
      db: deps.db,
      signal: AbortSignal.timeout(deps.timeoutMs ?? 15_000),
      egress: deps.egress,
    });
    if (result.status === 'skipped') return { outcome: 'skipped', httpStatus: null, message: result.reason, durationMs: took() };
    return { outcome: 'delivered', httpStatus: result.httpStatus ?? null, message: result.note ?? 'the receiver accepted the test lead', durationMs: took() };
  } catch (err) {
    const httpStatus = err instanceof DeliveryError ? (err.opts.httpStatus ?? null) : null;
    return { outcome: 'failed', httpStatus, message: err instanceof Error ? err.message : String(err), durationMs: took() };
  }
}
