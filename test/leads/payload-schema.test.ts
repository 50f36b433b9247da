import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookPayloadJsonSchema } from '../../server/leads/lead-payload-schema.js';
import { createLeadService, type LeadService } from '../../server/leads/lead-service.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { validateJsonSchema } from './json-schema-lite.js';
import { callRecord, completeCall, seed, refOf, startOf } from './lead-fixtures.js';

const schemaFile = path.resolve(import.meta.dirname, '../../server/leads/webhook-payload.schema.json');
const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));
let h: Harness;
let leads: LeadService;

beforeAll(async () => {
  h = await createHarness();
  leads = createLeadService({ db: h.db, logger: h.logger, publicBaseUrl: 'https://calls.example', allowedNetworks: h.config.sinks.allowedNetworks });
});
afterAll(() => h?.close());

describe('webhook-payload.schema.json', () => {
  it('is the JSON Schema of the zod type (regenerate: npx tsx tools/write-payload-schema.ts)', () => {
    expect(schema).toEqual(JSON.parse(JSON.stringify(webhookPayloadJsonSchema())));
  });

  it('accepts the payloads of every event type the outbox writes, and rejects broken ones', async () => {
    const s = await seed(h.db);
    const record = callRecord(s, {
      disposition: 'no-answer',
      answeredAt: null,
      talkSeconds: 0,
      attribution: { reason: null, candidates: [], overflow: false, previousCallId: null },
      visit: null,
      firstTime: null,
      sourceId: null,
      confidence: 'none',
    });
    const answered = callRecord(s);
    leads.eventSink.callStarted(startOf(record));
    await leads.eventSink.drainStarted();
    await completeCall(h.db, leads.eventSink, record);
    await completeCall(h.db, leads.eventSink, answered);
    await h.db.query(`UPDATE calls SET recording_status = 'ready', recording_duration_seconds = 41.5, score = 80, value = 1200.5 WHERE id = $1`, [answered.id]);
    await h.db.query(`INSERT INTO call_notes (call_id, author, text) VALUES ($1, 'anna', 'wants a quote')`, [answered.id]);
    await leads.eventSink.recordingReady(h.db, refOf(answered));
    await leads.eventSink.callModified(h.db, refOf(answered), { field: 'notes' });
    const { rows } = await h.db.query('SELECT type, payload FROM lead_events ORDER BY id');
    expect(rows.map((r) => r.type).sort()).toEqual(['call.completed', 'call.completed', 'call.modified', 'call.recording_ready', 'call.started']);
    for (const r of rows) expect(validateJsonSchema(schema, r.payload), r.type).toEqual([]);
    const ready = rows.find((r) => r.type === 'call.recording_ready')!.payload;
    expect(ready.call).toMatchObject({
      recording_url: `https://calls.example/v1/calls/${answered.id}/recording`,
      recording_duration: 41.5,
      score: 80,
      value: 1200.5,
    });
    expect(rows.find((r) => r.type === 'call.modified')!.payload.call).toMatchObject({
      note: 'wants a quote',
      notes: [{ author: 'anna', text: 'wants a quote' }],
    });

    const broken = structuredClone(ready);
    broken.version = 2;
    broken.call.talk_time = -1;
    delete broken.attribution.confidence;
    const errors = validateJsonSchema(schema, broken);
    expect(errors.join('\n')).toMatch(/\$\.version/);
    expect(errors.join('\n')).toMatch(/talk_time/);
    expect(errors.join('\n')).toMatch(/confidence: required/);
  });
});
