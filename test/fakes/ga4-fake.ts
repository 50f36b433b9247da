/**
 * GA4 Measurement Protocol fake: answers 204 to everything, like production, and records what
 * /debug/mp/collect would have flagged so a test can assert the hits were valid.
 */
import { type FakeServer, jsonOf, startFakeServer } from './fake-http.js';

export interface Ga4Hit {
  measurementId: string | null;
  apiSecret: string | null;
  body: any;
  validationMessages: string[];
}
export interface Ga4Fake extends FakeServer {
  hits: Ga4Hit[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

export function validateGa4(measurementId: string | null, apiSecret: string | null, raw: Buffer): string[] {
  const msgs: string[] = [];
  if (!measurementId) msgs.push('measurement_id is required');
  if (!apiSecret) msgs.push('api_secret is required');
  if (raw.length >= 130 * 1024) msgs.push('body must be under 130 kB');
  let body: any;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return [...msgs, 'body is not JSON'];
  }
  if (typeof body.client_id !== 'string' || body.client_id.length === 0) msgs.push('client_id is required');
  if (body.timestamp_micros !== undefined && (typeof body.timestamp_micros !== 'number' || Date.now() * 1000 - body.timestamp_micros > 72 * 3600e6)) {
    msgs.push('timestamp_micros must be within the last 72 hours');
  }
  if (!Array.isArray(body.events) || body.events.length === 0 || body.events.length > 25) msgs.push('events must hold 1..25 events');
  for (const e of body.events ?? []) {
    if (typeof e.name !== 'string' || !NAME.test(e.name)) msgs.push(`invalid event name ${JSON.stringify(e.name)}`);
    const params = Object.entries(e.params ?? {});
    if (params.length > 25) msgs.push(`event ${e.name}: more than 25 params`);
    for (const [k, v] of params) {
      if (!NAME.test(k)) msgs.push(`event ${e.name}: invalid param name ${k}`);
      if (typeof v === 'string' && v.length > 100) msgs.push(`event ${e.name}: param ${k} longer than 100 characters`);
      if (typeof v !== 'string' && typeof v !== 'number') msgs.push(`event ${e.name}: param ${k} must be a string or number`);
    }
  }
  return msgs;
}

export async function startGa4Fake(): Promise<Ga4Fake> {
  const hits: Ga4Hit[] = [];
  const server = await startFakeServer((req) => {
    if (req.method === 'POST' && req.path === '/mp/collect') {
      const measurementId = req.query.get('measurement_id');
      const apiSecret = req.query.get('api_secret');
      let body: unknown = null;
      try {
        body = jsonOf(req);
      } catch {
        /* recorded as a validation message */
      }
      hits.push({ measurementId, apiSecret, body, validationMessages: validateGa4(measurementId, apiSecret, req.body) });
    }
    return { status: 204 };
  });
  return Object.assign(server, { hits });
}
