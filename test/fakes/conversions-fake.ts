/**
 * Conversions-out fakes (contracts.md "Conversions out"): Google's Data Manager events:ingest
 * (bearer, destinations, events with transactionId, click id or SHA-256 E.164 phone; a repeated
 * transactionId is dropped as Google does) and Metrica's offline_conversions/upload (OAuth,
 * multipart CSV with ClientId|UserId|Yclid, Target, DateTime).
 */
import { type FakeReply, type FakeServer, jsonOf, startFakeServer } from './fake-http.js';
import { parseCsv } from './metrica-fake.js';

export interface ConversionsFake extends FakeServer {
  /** Google Ads conversions kept (one per transactionId). */
  google: any[];
  /** Metrica rows uploaded, with the client_id_type of their upload. */
  metrica: Array<{ idType: string; row: Record<string, string> }>;
  refusals: string[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export async function startConversionsFake(o: { googleToken: string; accountId: string; metricaToken: string; counterId: number }): Promise<ConversionsFake> {
  const google: any[] = [];
  const metrica: ConversionsFake['metrica'] = [];
  const refusals: string[] = [];
  const refuse = (status: number, message: string): FakeReply => {
    refusals.push(message);
    return { status, body: { error: { code: status, message } } };
  };
  const server = await startFakeServer(async (req) => {
    if (req.method === 'POST' && req.path === '/v1/events:ingest') {
      if (req.headers.authorization !== `Bearer ${o.googleToken}`) return refuse(401, 'bad OAuth token');
      const body = jsonOf(req);
      const destination = body.destinations?.[0];
      if (
        destination?.operatingAccount?.accountType !== 'GOOGLE_ADS' ||
        destination.operatingAccount.accountId !== o.accountId ||
        !destination.productDestinationId
      )
        return refuse(400, 'bad destinations');
      for (const event of body.events ?? []) {
        if (!RFC3339.test(event.eventTimestamp ?? '') || !event.transactionId) return refuse(400, 'eventTimestamp (RFC 3339) and transactionId are required');
        const ids = event.adIdentifiers ?? {};
        const phones = (event.userData?.userIdentifiers ?? []).map((u: { phoneNumber?: string }) => u.phoneNumber).filter(Boolean);
        if (!ids.gclid && !ids.gbraid && !ids.wbraid && phones.length === 0) return refuse(400, 'no ad identifier and no user data');
        if (!phones.every((p: string) => HEX64.test(p))) return refuse(400, 'phoneNumber must be a SHA-256 hex digest');
        if (!google.some((g) => g.transactionId === event.transactionId)) google.push(event);
      }
      return { status: 200, body: { requestId: `req-${google.length}` } };
    }
    const m = /^\/management\/v1\/counter\/(\d+)\/offline_conversions\/upload$/.exec(req.path);
    if (req.method === 'POST' && m) {
      if (req.headers.authorization !== `OAuth ${o.metricaToken}` || Number(m[1]) !== o.counterId) return refuse(403, 'Access is denied');
      const idType = req.query.get('client_id_type') ?? 'USER_ID';
      const type = String(req.headers['content-type'] ?? '');
      const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(req.body) }).formData();
      const file = form.get('file');
      if (!file || typeof file === 'string') return refuse(400, 'multipart field "file" is required');
      const [header, ...lines] = parseCsv(await file.text());
      const column = { CLIENT_ID: 'ClientId', USER_ID: 'UserId', YCLID: 'Yclid' }[idType];
      if (!header || !column || !header.includes(column) || !header.includes('Target') || !header.includes('DateTime')) return refuse(400, 'bad CSV header');
      for (const cells of lines) {
        const row = Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
        if (!row[column] || !/^\d{9,11}$/.test(row.DateTime ?? '')) return refuse(400, 'a row lacks its id or DateTime');
        metrica.push({ idType, row });
      }
      return { status: 200, body: { uploading: { id: metrica.length, status: 'UPLOADED' } } };
    }
    return refuse(404, `no route ${req.method} ${req.path}`);
  });
  return Object.assign(server, { google, metrica, refusals });
}
