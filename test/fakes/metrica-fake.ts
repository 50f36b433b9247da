/**
 * Yandex Metrica offline-calls fake: OAuth header, multipart field "file" with a CSV; a row without
 * ClientId/UserId/Yclid or without a Unix DateTime rejects the whole upload, as the API does.
 */
import { type FakeServer, startFakeServer } from './fake-http.js';

export interface MetricaUpload {
  counterId: number;
  rows: Array<Record<string, string>>;
}
export interface MetricaFake extends FakeServer {
  uploads: MetricaUpload[];
  rejections: string[];
}

/** RFC 4180-ish: quoted cells with "" escapes, comma separated. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split(/\r?\n/).filter((l) => l.length > 0)) {
    const cells: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!;
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') {
        cells.push(cur);
        cur = '';
      } else cur += ch;
    }
    cells.push(cur);
    rows.push(cells);
  }
  return rows;
}

export async function startMetricaFake(o: { token: string; counterId: number }): Promise<MetricaFake> {
  const uploads: MetricaUpload[] = [];
  const rejections: string[] = [];
  let nextId = 1;
  const reject = (status: number, message: string) => {
    rejections.push(message);
    return { status, body: { errors: [{ error_type: status === 403 ? 'access_denied' : 'invalid_parameter', message }], code: status, message } };
  };
  const server = await startFakeServer(async (req) => {
    const m = /^\/management\/v1\/counter\/(\d+)\/offline_conversions\/upload_calls$/.exec(req.path);
    if (req.method !== 'POST' || !m) return reject(404, `no route ${req.method} ${req.path}`);
    if (req.headers.authorization !== `OAuth ${o.token}`) return reject(403, 'Access is denied');
    if (Number(m[1]) !== o.counterId) return reject(403, 'no access to this counter');
    const type = String(req.headers['content-type'] ?? '');
    if (!type.startsWith('multipart/form-data')) return reject(400, 'expected multipart/form-data');
    // Let undici's Request parse the multipart body.
    const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(req.body) }).formData();
    const file = form.get('file');
    if (!file || typeof file === 'string') return reject(400, 'multipart field "file" is required');
    const [header, ...lines] = parseCsv(await file.text());
    if (!header || lines.length === 0) return reject(400, 'CSV needs a header row and at least one row');
    const rows = lines.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
    for (const [i, r] of rows.entries()) {
      if (!r.ClientId && !r.UserId && !r.Yclid) return reject(400, `row ${i + 1}: one of UserId, ClientId, Yclid is required`);
      if (!/^\d{9,11}$/.test(r.DateTime ?? '')) return reject(400, `row ${i + 1}: DateTime must be a Unix timestamp`);
      if (r.PhoneNumber && !/^\+\d{7,15}$/.test(r.PhoneNumber)) return reject(400, `row ${i + 1}: PhoneNumber must be +<digits>`);
    }
    uploads.push({ counterId: o.counterId, rows });
    return { status: 200, body: { uploading: { id: nextId++, source_quantity: rows.length, line_quantity: rows.length, status: 'UPLOADED' } } };
  });
  return Object.assign(server, { uploads, rejections });
}
