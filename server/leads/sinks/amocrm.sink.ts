import { AmoCrmConfig } from '../leads.schemas.js';
import { DeliveryError, failFor, send, type SinkHandler } from './sink.js';

type Config = ReturnType<typeof AmoCrmConfig.parse>;
interface Progress {
  contactId?: number;
  leadId?: number;
}

/**
 * amoCRM v4. The calls endpoint only attaches a call to an existing contact (matched on the
 * phone's last 10 digits; no match and the call is silently not added), so the contact comes
 * first: found by phone, or created together with a lead through leads/complex.
 */
export const amocrmSink: SinkHandler<Config> = {
  kind: 'amocrm',
  parseConfig: (raw) => AmoCrmConfig.parse(raw),
  async deliver({ config, payload, idempotencyKey, progress: saved, saveProgress, signal, egress }) {
    const phone = payload.call.caller_number;
    if (!phone || !/^\+\d{7,15}$/.test(phone)) return { status: 'skipped', reason: 'no caller number to match a contact' };
    const headers = { authorization: `Bearer ${config.token}`, 'content-type': 'application/json', accept: 'application/json' };
    const progress = saved as Progress;
    // Bad token, bad payload: a retry will not fix them.
    const permanent = [400, 401, 402, 403, 404];

    if (progress.contactId === undefined) {
      const found = await send(`${config.baseUrl}/api/v4/contacts?query=${encodeURIComponent(phone.slice(1))}`, { headers }, { signal, egress });
      if (found.status === 200) {
        const body = (await found.json()) as { _embedded?: { contacts?: Array<{ id: number }> } };
        const id = body._embedded?.contacts?.[0]?.id;
        if (id !== undefined) await saveProgress({ ...progress, contactId: id });
        progress.contactId = id;
      } else if (found.status !== 204) await failFor(found, 'amoCRM contact search', permanent);
    }
    if (progress.contactId === undefined) {
      const a = payload.attribution;
      const lead = {
        name: `Call from ${phone}`,
        ...(config.pipelineId ? { pipeline_id: config.pipelineId } : {}),
        ...(config.responsibleUserId ? { responsible_user_id: config.responsibleUserId } : {}),
        _embedded: {
          contacts: [
            { name: payload.call.caller_name ?? phone, custom_fields_values: [{ field_code: 'PHONE', values: [{ value: phone, enum_code: 'WORK' }] }] },
          ],
          tags: [a.source, a.campaign].filter((t): t is string => !!t).map((name) => ({ name })),
        },
        request_id: idempotencyKey,
      };
      const res = await send(`${config.baseUrl}/api/v4/leads/complex`, { method: 'POST', headers, body: JSON.stringify([lead]) }, { signal, egress });
      if (res.status !== 200) await failFor(res, 'amoCRM leads/complex', permanent);
      const [created] = (await res.json()) as Array<{ id: number; contact_id: number }>;
      if (!created?.contact_id) throw new DeliveryError('amoCRM leads/complex returned no contact');
      await saveProgress({ contactId: created.contact_id, leadId: created.id });
    }

    const call = {
      direction: 'inbound',
      uniq: idempotencyKey,
      duration: payload.call.talk_time,
      source: config.source,
      phone,
      ...(payload.call.recording_url ? { link: payload.call.recording_url } : {}),
      // 4: had a conversation; 3: not available (missed).
      call_status: payload.call.answered ? 4 : 3,
      created_at: Math.floor(Date.parse(payload.call.start_time) / 1000),
    };
    const res = await send(`${config.baseUrl}/api/v4/calls`, { method: 'POST', headers, body: JSON.stringify([call]) }, { signal, egress });
    if (res.status !== 200) await failFor(res, 'amoCRM calls', permanent);
    const body = (await res.json()) as { _embedded?: { calls?: unknown[] }; errors?: unknown[] };
    if ((body._embedded?.calls?.length ?? 0) === 0) throw new DeliveryError(`amoCRM did not add the call (${(body.errors ?? []).length} errors in its answer)`);
    return { status: 'delivered', httpStatus: 200 };
  },
};
