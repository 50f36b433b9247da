import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SipMessage, SipRemote } from './sip-types.js';
import { parseFrame, startWsTransport } from './ws-transport.js';

const options =
  'OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\nTo: <sip:127.0.0.1>\r\nFrom: <sip:p@127.0.0.1>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n';

describe(parseFrame.name, () => {
  it('takes a SIP message from a text or binary frame and nothing else', () => {
    expect(parseFrame(options)).toMatchObject({ method: 'OPTIONS', headers: { 'call-id': 'c1' } });
    expect(parseFrame(Buffer.from(options))).toMatchObject({ method: 'OPTIONS' });
    expect(parseFrame('hello\r\n\r\n')).toBeUndefined();
    expect(parseFrame(Buffer.from([0, 255, 13, 10, 13, 10]))).toBeUndefined();
    // A request line without the headers a transaction needs.
    expect(parseFrame('OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/WS a.invalid\r\n\r\n')).toBeUndefined();
  });
});

describe(startWsTransport.name, () => {
  it('speaks WSS with a certificate, on the given address only, and calls its peers WSS', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-'));
    const [certFile, keyFile] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1'], {
      stdio: 'ignore',
    });
    const got: Array<{ message: SipMessage; remote: SipRemote }> = [];
    const transport = await startWsTransport({
      host: '127.0.0.1',
      port: 0,
      tls: { certFile, keyFile },
      logger: pino({ level: 'silent' }),
      onMessage: (message, remote) => void got.push({ message, remote }),
      onFlowClosed: () => undefined,
    });
    try {
      expect(transport.protocol).toBe('WSS');
      const client = new WebSocket(`wss://127.0.0.1:${transport.port}`, 'sip', { rejectUnauthorized: false });
      await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
      expect(client.protocol).toBe('sip');
      client.send(options);
      for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(got[0]?.remote).toMatchObject({ protocol: 'WSS', address: '127.0.0.1' });
      expect(got[0]?.message.headers.via[0]?.params.received).toBe('127.0.0.1');
      // Bound to the SIP address, not every interface.
      await expect(
        new Promise((resolve, reject) => {
          const other = new WebSocket(`wss://127.0.0.2:${transport.port}`, 'sip', { rejectUnauthorized: false });
          other.once('open', () => resolve('open')).once('error', reject);
        }),
      ).rejects.toThrow(/ECONNREFUSED/);
      client.terminate();
    } finally {
      await transport.close();
    }
  });
});
