import { progressOf } from '../leads.repository.js';
import { Bitrix24Config } from '../leads.schemas.js';
import { DeliveryError, type SendContext, send, type SinkHandler } from './sink.js';

type Config = ReturnType<typeof Bitrix24Config.parse>;
type Progress = { callId?: string; finishing?: boolean; finished?: boolean; leadId?: number };

async function call(
  config: Config,
  method: string,
  params: object,
  ctx: SendContext,
): Promise<{ result?: unknown; error?: string; error_description?: string }> {
  const res = await send(
    `${config.webhookUrl}/${method}.json`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
    },
    ctx,
  );
  const body = (await res.json().catch(() => ({}))) as { result?: unknown; error?: string; error_description?: string };
  if (res.ok && body.error === undefined) return body;
  // Only the error code: descriptions are the receiver's free text and delivery errors are shown to admins.
  const message = `Bitrix24 ${method}: HTTP ${res.status} ${(body.error ?? '').slice(0, 64)}`.trim();
  // The leaky bucket drains 2 requests/s: try again a little later.
  if (body.error === 'QUERY_LIMIT_EXCEEDED' || res.status === 503 || res.status === 429)
    throw new DeliveryError(message, { httpStatus: res.status, retryAfterMs: 1_000 });
  if (res.status >= 500) throw new DeliveryError(message, { httpStatus: res.status });
  return body;
}

const fail = (method: string, b: { error?: string; error_description?: string }) =>
  new DeliveryError(`Bitrix24 ${method}: ${(b.error ?? 'error').slice(0, 64)}`, {
    permanent: b.error === 'INVALID_CREDENTIALS' || b.error === 'insufficient_scope',
  });

/**
 * Bitrix24 external telephony: register (idempotent: the same EXTERNAL_CALL_ID, phone, type, user and
 * line give the same CALL_ID within 30 min), finish (once: a second finish errors "Call is not found",
 * so we remember we sent it), attachRecord on call.recording_ready. Or crm.lead.add, deduped by ORIGIN_ID.
 */
export const bitrix24Sink: SinkHandler<Config> = {
  kind: 'bitrix24',
  parseConfig: (raw) => Bitrix24Config.parse(raw),
  async deliver({ config, payload, progress: saved, saveProgress, signal, egress, db, sinkId }) {
    const c = payload.call;
    if (!c.caller_number) return { status: 'skipped', reason: 'no caller number' };
    let progress = saved as Progress;

    if (payload.type === 'call.recording_ready') {
      if (config.mode !== 'telephony' || !c.recording_url) return { status: 'skipped', reason: 'no recording link or lead mode' };
      const registered = (await progressOf(db, sinkId, c.id, 'call.completed')) as Progress | undefined;
      if (!registered?.callId) return { status: 'skipped', reason: 'the call was never registered in Bitrix24' };
      const b = await call(
        config,
        'telephony.externalcall.attachRecord',
        { CALL_ID: registered.callId, FILENAME: `${c.id}.mp3`, RECORD_URL: c.recording_url },
        { signal, egress },
      );
      if (b.error) throw fail('attachRecord', b);
      return { status: 'delivered' };
    }

    if (config.mode === 'lead') {
      const found = await call(config, 'crm.lead.list', { filter: { ORIGIN_ID: c.id }, select: ['ID'] }, { signal, egress });
      if (found.error) throw fail('crm.lead.list', found);
      if (Array.isArray(found.result) && found.result.length > 0) return { status: 'delivered', note: 'lead already exists' };
      const a = payload.attribution;
      const added = await call(
        config,
        'crm.lead.add',
        {
          fields: {
            TITLE: `Call from ${c.caller_number}`,
            SOURCE_ID: 'CALL',
            PHONE: [{ VALUE: c.caller_number, VALUE_TYPE: 'WORK' }],
            ORIGIN_ID: c.id,
            UTM_SOURCE: a.utm_source ?? a.source,
            UTM_MEDIUM: a.utm_medium ?? a.medium,
            UTM_CAMPAIGN: a.utm_campaign ?? a.campaign,
            UTM_TERM: a.utm_term ?? a.keyword,
            UTM_CONTENT: a.utm_content,
            COMMENTS: c.note ?? '',
          },
        },
        { signal, egress },
      );
      if (added.error) throw fail('crm.lead.add', added);
      return { status: 'delivered' };
    }

    if (!progress.callId) {
      const b = await call(
        config,
        'telephony.externalcall.register',
        {
          USER_ID: config.userId,
          PHONE_NUMBER: c.caller_number,
          TYPE: 2,
          CALL_START_DATE: c.start_time,
          CRM_CREATE: config.crmCreate ? 1 : 0,
          CRM_SOURCE: 'CALL',
          LINE_NUMBER: c.tracking_number,
          EXTERNAL_CALL_ID: c.id,
        },
        { signal, egress },
      );
      const callId = (b.result as { CALL_ID?: string } | undefined)?.CALL_ID;
      if (b.error || !callId) throw fail('register', b);
      progress = { callId };
      await saveProgress(progress);
    }
    if (!progress.finished) {
      // Remember that a finish went out: if its answer is lost, the retry's "Call is not found" means it worked.
      if (!progress.finishing) {
        progress = { ...progress, finishing: true };
        await saveProgress(progress);
      }
      const b = await call(
        config,
        'telephony.externalcall.finish',
        {
          CALL_ID: progress.callId,
          USER_ID: config.userId,
          DURATION: c.talk_time,
          STATUS_CODE: c.answered ? 200 : 304,
          ...(c.recording_url ? { RECORD_URL: c.recording_url } : {}),
        },
        { signal, egress },
      );
      const alreadyFinished = (saved as Progress).finishing === true && /not found/i.test(`${b.error} ${b.error_description ?? ''}`);
      if (b.error && !alreadyFinished) throw fail('finish', b);
      await saveProgress({ ...progress, finished: true });
    }
    return { status: 'delivered' };
  },
};
