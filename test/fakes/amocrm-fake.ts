/**
 * amoCRM v4 fake: Bearer token, contacts search (204 when nothing matches), leads/complex with an
 * embedded contact, calls matched on the phone's last 10 digits — a call whose phone matches no
 * contact is dropped, as the real API does.
 */
import { type FakeReply, type FakeServer, jsonOf, startFakeServer } from './fake-http.js';

export interface AmoContact {
  id: number;
  name: string;
  phones: string[];
}
export interface AmoLead {
  id: number;
  contactId: number;
  name: string;
  requestId: string | undefined;
}
export interface AmoCall {
  contactId: number;
  direction: string;
  duration: number;
  source: string;
  phone: string;
  uniq?: string;
  link?: string;
  call_status?: number;
}

export interface AmoCrmFake extends FakeServer {
  contacts: AmoContact[];
  leads: AmoLead[];
  calls: AmoCall[];
  droppedCalls: unknown[];
  /** Problems with requests (bad auth, missing fields), for assertions. */
  problems: string[];
}

const last10 = (s: string) => s.replace(/\D/g, '').slice(-10);
const problem = (status: number, title: string): FakeReply => ({
  status,
  headers: { 'content-type': 'application/problem+json' },
  body: JSON.stringify({ title, status }),
});

export async function startAmoCrmFake(token: string): Promise<AmoCrmFake> {
  const contacts: AmoContact[] = [];
  const leads: AmoLead[] = [];
  const calls: AmoCall[] = [];
  const droppedCalls: unknown[] = [];
  const problems: string[] = [];
  let nextId = 1000;
  const bad = (status: number, title: string) => {
    problems.push(title);
    return problem(status, title);
  };

  const server = await startFakeServer((req) => {
    if (req.headers.authorization !== `Bearer ${token}`) return bad(401, 'Unauthorized');
    if (req.method === 'GET' && req.path === '/api/v4/contacts') {
      const q = last10(req.query.get('query') ?? '');
      if (q.length < 7) return bad(400, 'query too short');
      const found = contacts.filter((c) => c.phones.some((p) => last10(p) === q));
      if (found.length === 0) return { status: 204 };
      return { status: 200, body: { _embedded: { contacts: found.map((c) => ({ id: c.id, name: c.name })) } } };
    }
    if (req.method === 'POST' && req.path === '/api/v4/leads/complex') {
      const body = jsonOf(req);
      if (!Array.isArray(body) || body.length === 0 || body.length > 50) return bad(400, 'leads/complex expects an array of 1..50 leads');
      const out = [];
      for (const lead of body) {
        const contact = lead?._embedded?.contacts?.[0];
        const phoneField = contact?.custom_fields_values?.find((f: any) => f.field_code === 'PHONE');
        const phones: string[] = (phoneField?.values ?? []).map((v: any) => String(v.value));
        if (!contact || phones.length === 0) return bad(400, 'lead without a contact phone (custom_fields_values field_code PHONE)');
        const c: AmoContact = { id: nextId++, name: String(contact.name ?? ''), phones };
        const l: AmoLead = { id: nextId++, contactId: c.id, name: String(lead.name ?? ''), requestId: lead.request_id };
        contacts.push(c);
        leads.push(l);
        out.push({ id: l.id, contact_id: c.id, company_id: null, request_id: [lead.request_id ?? '0'], merged: false });
      }
      return { status: 200, body: out };
    }
    if (req.method === 'POST' && req.path === '/api/v4/calls') {
      const body = jsonOf(req);
      if (!Array.isArray(body) || body.length === 0) return bad(400, 'calls expects an array');
      const added = [];
      const errors = [];
      for (const [i, call] of body.entries()) {
        if (!['inbound', 'outbound'].includes(call.direction) || typeof call.duration !== 'number' || !call.source || !call.phone) {
          return bad(400, `call ${i}: direction, duration, source and phone are required`);
        }
        const contact = contacts.find((c) => c.phones.some((p) => last10(p) === last10(call.phone)));
        if (!contact) {
          droppedCalls.push(call);
          errors.push({ request_id: String(i), detail: 'Entity not found' });
          continue;
        }
        calls.push({ contactId: contact.id, ...call });
        added.push({ id: nextId++, entity_id: contact.id, entity_type: 'contacts', request_id: String(i) });
      }
      return { status: 200, body: { _embedded: { calls: added }, ...(errors.length > 0 ? { errors } : {}) } };
    }
    return bad(404, `no route ${req.method} ${req.path}`);
  });
  return Object.assign(server, { contacts, leads, calls, droppedCalls, problems });
}
