import { MetricaConfig } from '../leads.schemas.js';
import { failFor, send, type SinkHandler } from './sink.js';

type Config = ReturnType<typeof MetricaConfig.parse>;

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** Yandex Metrica offline calls: a one-row CSV (multipart field "file") keyed by the visitor's ClientId or yclid. */
export const metricaSink: SinkHandler<Config> = {
  kind: 'metrica',
  parseConfig: (raw) => MetricaConfig.parse(raw),
  async deliver({ config, payload, signal, egress }) {
    const c = payload.call;
    const a = payload.attribution;
    const id: [string, string] | undefined = a.ym_client_id ? ['ClientId', a.ym_client_id] : a.yclid ? ['Yclid', a.yclid] : undefined;
    if (!id) return { status: 'skipped', reason: 'no Metrica ClientId or yclid for this call' };
    const row: Record<string, string | number> = {
      [id[0]]: id[1],
      DateTime: Math.floor(Date.parse(c.start_time) / 1000),
      StaticCall: a.confidence === 'static' ? 1 : 0,
      TalkDuration: c.talk_time,
      HoldDuration: c.ring_time,
      CallMissed: c.answered ? 0 : 1,
      FirstTimeCaller: c.first_call ? 1 : 0,
    };
    if (c.caller_number) row.PhoneNumber = c.caller_number;
    if (c.tags.length > 0) row.Tag = c.tags[0]!;
    if (c.value !== null) {
      row.Price = c.value;
      row.Currency = config.currency;
    }
    if (a.landing_page_url) row.URL = a.landing_page_url;
    const csv = `${Object.keys(row).join(',')}\n${Object.values(row).map(csvCell).join(',')}\n`;
    const form = new FormData();
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'calls.csv');
    const res = await send(
      `${config.baseUrl}/management/v1/counter/${config.counterId}/offline_conversions/upload_calls`,
      {
        method: 'POST',
        headers: { authorization: `OAuth ${config.token}` },
        body: form,
      },
      { signal, egress },
    );
    if (res.status !== 200) await failFor(res, 'Metrica upload_calls', [400, 401, 403]);
    const body = (await res.json()) as { uploading?: { id?: number; status?: string } };
    return { status: 'delivered', httpStatus: 200, note: `upload ${body.uploading?.id ?? '?'} ${body.uploading?.status ?? ''}`.trim() };
  },
};
