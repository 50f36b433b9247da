/**
 * Bitrix24 inbound-webhook fake (/rest/{user}/{code}/{method}.json): external telephony and
 * crm.lead.*. Same CALL_ID for a repeated register, "Call is not found" on a second finish, and a
 * leaky bucket answering 503 QUERY_LIMIT_EXCEEDED when it overflows.
 */
import { type FakeReply, type FakeRequest, type FakeServer, jsonOf, startFakeServer } from './fake-http.js';

export interface BitrixCall {
  callId: string;
  key: string;
  params: any;
  finished?: any;
  records: any[];
}

export interface Bitrix24Fake extends FakeServer {
  webhookUrl: string;
  calls: BitrixCall[];
  leads: any[];
  /** CRM deals and contacts crm.deal.get / crm.contact.get read (tests put them here by ID). */
  deals: Map<string, any>;
  contacts: Map<string, any>;
  /** Requests answered with an error, by method. */
  errors: Array<{ method: string; error: string }>;
  /** Methods whose next call is carried out but answered 502, as if the reply were lost on the way back. */
  loseReplyOnce: Set<string>;
}

export async function startBitrix24Fake(o: { userId: number; code: string; bucket?: number; drainPerSecond?: number }): Promise<Bitrix24Fake> {
  const calls: BitrixCall[] = [];
  const leads: any[] = [];
  const deals = new Map<string, any>();
  const contacts = new Map<string, any>();
  const errors: Array<{ method: string; error: string }> = [];
  const bucketSize = o.bucket ?? 50;
  const drain = o.drainPerSecond ?? 2;
  let level = 0;
  let lastDrain = Date.now();
  let n = 0;
  const err = (method: string, status: number, error: string, description: string): FakeReply => {
    errors.push({ method, error });
    return { status, body: { error, error_description: description } };
  };

  const loseReplyOnce = new Set<string>();
  const server = await startFakeServer((req) => {
    const reply = handle(req);
    const method = /\/([a-z.]+)\.json$/i.exec(req.path)?.[1] ?? '';
    if (loseReplyOnce.delete(method)) return { status: 502, body: 'Bad Gateway' };
    return reply;
  });
  function handle(req: FakeRequest): FakeReply {
    const m = /^\/rest\/(\d+)\/([^/]+)\/([a-z.]+)\.json$/i.exec(req.path);
    if (!m) return err('?', 404, 'NOT_FOUND', 'bad path');
    const [, user, code, method] = m as unknown as [string, string, string, string];
    if (Number(user) !== o.userId || code !== o.code) return err(method, 401, 'INVALID_CREDENTIALS', 'Invalid request credentials');
    const now = Date.now();
    level = Math.max(0, level - ((now - lastDrain) / 1000) * drain);
    lastDrain = now;
    if (level + 1 > bucketSize) return err(method, 503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests');
    level += 1;
    const p = req.body.length > 0 ? jsonOf(req) : {};
    switch (method) {
      case 'telephony.externalcall.register': {
        if (!(p.USER_ID || p.USER_PHONE_INNER) || !p.PHONE_NUMBER || !p.TYPE)
          return err(method, 400, 'ERROR_ARGUMENT', 'USER_ID, PHONE_NUMBER and TYPE are required');
        const key = [p.PHONE_NUMBER, p.TYPE, p.USER_ID ?? p.USER_PHONE_INNER, p.LINE_NUMBER ?? '', p.EXTERNAL_CALL_ID ?? ''].join('|');
        let call = calls.find((c) => c.key === key);
        if (!call) {
          call = { callId: `externalCall.${++n}`, key, params: p, records: [] };
          calls.push(call);
        }
        return { status: 200, body: { result: { CALL_ID: call.callId, CRM_ENTITY_TYPE: 'LEAD', CRM_ENTITY_ID: n } } };
      }
      case 'telephony.externalcall.finish': {
        const call = calls.find((c) => c.callId === p.CALL_ID && !c.finished);
        if (!call) return err(method, 400, 'ERROR_NOT_FOUND', 'Call is not found');
        if (!(p.USER_ID || p.USER_PHONE_INNER) || p.DURATION === undefined) return err(method, 400, 'ERROR_ARGUMENT', 'USER_ID and DURATION are required');
        call.finished = p;
        return { status: 200, body: { result: { CALL_ID: call.callId } } };
      }
      case 'telephony.externalcall.attachRecord': {
        const call = calls.find((c) => c.callId === p.CALL_ID);
        if (!call) return err(method, 400, 'ERROR_NOT_FOUND', 'Call is not found');
        if (!/\.(mp3|wav)$/i.test(String(p.FILENAME ?? '')) || !(p.FILE_CONTENT || p.RECORD_URL))
          return err(method, 400, 'ERROR_ARGUMENT', 'FILENAME (.mp3|.wav) and FILE_CONTENT or RECORD_URL required');
        call.records.push(p);
        return { status: 200, body: { result: { FILE_ID: call.records.length } } };
      }
      case 'crm.lead.list':
        return { status: 200, body: { result: leads.filter((l) => !p.filter?.ORIGIN_ID || l.ORIGIN_ID === p.filter.ORIGIN_ID).map((l) => ({ ID: l.ID })) } };
      case 'crm.lead.add': {
        const f = p.fields;
        if (!f?.TITLE || !Array.isArray(f.PHONE)) return err(method, 400, 'ERROR_ARGUMENT', 'fields.TITLE and fields.PHONE required');
        const lead = { ...f, ID: String(leads.length + 1) };
        leads.push(lead);
        return { status: 200, body: { result: Number(lead.ID) } };
      }
      case 'crm.deal.get':
      case 'crm.contact.get': {
        const found = (method === 'crm.deal.get' ? deals : contacts).get(String(p.id ?? req.query.get('id') ?? ''));
        if (!found) return err(method, 400, 'ERROR_NOT_FOUND', 'Not found');
        return { status: 200, body: { result: found } };
      }
      default:
        return err(method, 404, 'ERROR_METHOD_NOT_FOUND', 'Method not found');
    }
  }
  return Object.assign(server, { webhookUrl: `${server.url}/rest/${o.userId}/${o.code}`, calls, leads, deals, contacts, errors, loseReplyOnce });
}
