/**
 * A tiny HTTP server on 127.0.0.1 and a random port for the CRM/analytics fakes: records every
 * request, can be taken down (connections refused) and brought back on the same port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeServer {
  url: string;
  port: number;
  requests: FakeRequest[];
  /** Stops accepting connections (clients get ECONNREFUSED) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeServer(handle: (req: FakeRequest) => FakeReply | Promise<FakeReply>): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const r: FakeRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      requests.push(r);
      Promise.resolve(handle(r)).then(
        (reply) => {
          const json = reply.body !== undefined && typeof reply.body !== 'string';
          res.writeHead(reply.status, { ...(json ? { 'content-type': 'application/json' } : {}), ...reply.headers });
          res.end(reply.body === undefined ? undefined : json ? JSON.stringify(reply.body) : String(reply.body));
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    });
  });
  server.keepAliveTimeout = 1_000;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let isUp = true;
  const fake: FakeServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async down() {
      if (!isUp) return;
      isUp = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    async up() {
      if (isUp) return;
      await listen(port);
      isUp = true;
    },
    close: () => fake.down(),
  };
  return fake;
}

export const jsonOf = <T = any>(r: FakeRequest): T => JSON.parse(r.body.toString('utf8')) as T;
