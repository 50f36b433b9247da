import crypto from 'node:crypto';
import { visitFromSession } from '../attribution/visit.js';
import { type Db, withTransaction } from '../db/pool.js';
import { findSiteContextByKey } from '../dni/dni.repository.js';
import { originAllowed } from '../dni/dni.service.js';
import { ERRORS } from '../errors.js';
import { toE164 } from '../shared/schemas.js';
import * as repo from './form-leads.repository.js';
import type { FormLeadBody } from './form-leads.schemas.js';
import { formPayload } from './lead-payload.js';
import { insertEvent } from './leads.repository.js';

/** Sessions are written behind (~200 ms): a form sent right after the page opened may wait for its row this long. */
const SESSION_WAIT_MS = [100, 200, 400, 800];

export interface FormLeadService {
  /**
   * Stores a form lead with its session's visit and puts `form.submitted` in the outbox in the same
   * transaction. `origin` absent = a site's backend posting (no browser to hold to CORS).
   */
  submit(
    body: FormLeadBody,
    request: { origin: string | undefined; visitorCookie: string | undefined },
  ): Promise<{ id: string; firstLead: boolean; linkedCallId: string | null }>;
}

export function createFormLeadService({ db, sessionWaitMs = SESSION_WAIT_MS }: { db: Db; sessionWaitMs?: number[] }): FormLeadService {
  async function sessionOf(siteId: string, body: FormLeadBody, visitorCookie: string | undefined) {
    if (body.sessionId) {
      for (let i = 0; ; i++) {
        const found = await repo.findSiteSession(db, siteId, body.sessionId);
        const delay = sessionWaitMs[i];
        if (found || delay === undefined) return found;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    return visitorCookie ? repo.latestVisitorSession(db, siteId, visitorCookie) : undefined;
  }

  return {
    async submit(body, request) {
      const site = await findSiteContextByKey(db, body.siteKey);
      if (!site) throw ERRORS.notFound('site', body.siteKey);
      if (request.origin !== undefined && !originAllowed(request.origin, site.domains)) throw ERRORS.forbidden([`requests from ${site.domains.join(', ')}`]);
      const session = await sessionOf(site.siteId, body, request.visitorCookie);
      const visit = session ? visitFromSession(session) : null;
      const phone = body.fields.phone ? (toE164(body.fields.phone) ?? null) : null;
      const at = new Date();
      const history = phone ? await repo.phoneHistory(db, site.accountId, phone, at) : { earlier: false, linkedCallId: null };
      const id = crypto.randomUUID();
      const facts = {
        id,
        accountId: site.accountId,
        siteId: site.siteId,
        sessionId: session?.id ?? null,
        url: body.url,
        name: body.fields.name || null,
        phone,
        email: body.fields.email || null,
        firstTime: !history.earlier,
        linkedCallId: history.linkedCallId,
        submittedAt: at,
        visit,
      };
      await withTransaction(db, async (trx) => {
        await repo.insertFormLead(trx, {
          ...facts,
          visitorId: session?.visitor_id ?? null,
          fields: body.fields,
          at,
        });
        const eventId = crypto.randomUUID();
        await insertEvent(trx, {
          uid: eventId,
          accountId: site.accountId,
          callId: id,
          type: 'form.submitted',
          payload: formPayload(facts, { eventId, occurredAt: at }),
        });
      });
      return { id, firstLead: facts.firstTime, linkedCallId: facts.linkedCallId };
    },
  };
}
