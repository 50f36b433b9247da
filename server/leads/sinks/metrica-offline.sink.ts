import { DealWonPayload } from '../lead-payload.js';
import { MetricaOfflineConfig } from '../leads.schemas.js';
import { failFor, send, type SinkHandler } from './sink.js';

type Config = ReturnType<typeof MetricaOfflineConfig.parse>;

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/**
 * A won deal as one Metrica offline conversion (a goal reached, with the price), keyed by the
 * visitor's ClientId or, failing that, the yclid. Without either it can never match: skipped.
 */
export const metricaOfflineSink: SinkHandler<Config> = {
  kind: 'metrica_offline',
  parseConfig: (raw) => MetricaOfflineConfig.parse(raw),
  async deliver({ config, payload, signal, egress }) {
    const won = DealWonPayload.safeParse(payload);
    if (!won.success) return { status: 'skipped', reason: `not a deal.won payload (${payload.type})` };
    const { deal, click } = won.data;
    const id = click.ym_client_id
      ? (['CLIENT_ID', 'ClientId', click.ym_client_id] as const)
      : click.yclid
        ? (['YCLID', 'Yclid', click.yclid] as const)
        : undefined;
    if (!id) return { status: 'skipped', reason: 'can never match: no Metrica ClientId or yclid for this deal' };
    const row: Record<string, string | number> = { [id[1]]: id[2], Target: config.target, DateTime: Math.floor(Date.parse(deal.won_at) / 1000) };
    if (deal.revenue !== null && deal.currency) {
      row.Price = deal.revenue;
      row.Currency = deal.currency;
    }
    const csv = `${Object.keys(row).join(',')}\n${Object.values(row).map(csvCell).join(',')}\n`;
    const form = new FormData();
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'conversions.csv');
    const res = await send(
      `${config.baseUrl}/management/v1/counter/${config.counterId}/offline_conversions/upload?client_id_type=${id[0]}`,
      { method: 'POST', headers: { authorization: `OAuth ${config.token}` }, body: form },
      { signal, egress },
    );
    if (res.status !== 200) await failFor(res, 'Metrica offline_conversions/upload', [400, 401, 403]);
    const body = (await res.json()) as { uploading?: { id?: number; status?: string } };
    return { status: 'delivered', httpStatus: 200, note: `upload ${body.uploading?.id ?? '?'} ${body.uploading?.status ?? ''}`.trim() };
  },
};
