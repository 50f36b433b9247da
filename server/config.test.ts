import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe(loadConfig.name, () => {
  it("applies defaults that point at the project's own services", () => {
    const c = loadConfig({});
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(c.sip).toMatchObject({ host: '127.0.0.1', port: 5060 });
    expect(c.rtpengine.ng).toEqual({ host: '127.0.0.1', port: 22222 });
    expect(c.database.url).toMatch(/^postgres:\/\/.+:55432\//);
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({ HTTP_PORT: 'eighty', RTPENGINE_NG: 'nohostport', ADMIN_API_KEY: 'short' });
      expect.unreachable('loadConfig accepted bad input');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toContain('HTTP_PORT');
      expect(problems).toContain('RTPENGINE_NG');
      expect(problems).toContain('ADMIN_API_KEY');
    }
  });

  it('serves SIP over WebSocket on 5066 by default, WSS with both files, and turns it off with 0', () => {
    expect(loadConfig({}).sip.ws).toEqual({ port: 5066, tls: undefined, publicUrl: 'ws://127.0.0.1:5066' });
    expect(loadConfig({ SIP_WS_PORT: '0' }).sip.ws).toBeUndefined();
    expect(loadConfig({ SIP_PUBLIC_HOST: 'pbx.example', SIP_WS_URL: 'wss://pbx.example/sip' }).sip.ws?.publicUrl).toBe('wss://pbx.example/sip');
    const pem = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pem-')), 'x.pem');
    fs.writeFileSync(pem, 'not checked here');
    expect(loadConfig({ SIP_WS_CERT: pem, SIP_WS_KEY: pem }).sip.ws).toMatchObject({ tls: { certFile: pem, keyFile: pem }, publicUrl: 'wss://127.0.0.1:5066' });
    expect(() => loadConfig({ SIP_WS_CERT: pem })).toThrow(/SIP_WS_CERT \/ SIP_WS_KEY/);
    expect(() => loadConfig({ SIP_WS_CERT: pem, SIP_WS_KEY: '/nonexistent/key.pem' })).toThrow(/SIP_WS_KEY: cannot read/);
    expect(() => loadConfig({ SIP_WS_URL: 'http://pbx.example' })).toThrow(/SIP_WS_URL/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ HTTP_PORT: '' }).http.port).toBe(8080);
  });

  it('reads trusted proxies and sink networks as CIDR lists and rejects junk', () => {
    const c = loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7,::1', SINK_ALLOWED_NETWORKS: '' });
    expect(c.http.trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.7/32', '::1/128']);
    expect(c.sinks.allowedNetworks).toEqual([]);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ SINK_ALLOWED_NETWORKS: 'crm.local' })).toThrow(/SINK_ALLOWED_NETWORKS/);
  });

  it('refuses production without a real SECRET_KEY', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ADMIN_API_KEY: 'a-long-enough-admin-key' })).toThrow(/SECRET_KEY/);
    expect(loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'a-long-enough-secret-key' }).secretKey).toBe('a-long-enough-secret-key');
    expect(loadConfig({ NODE_ENV: 'development' }).secretKey).toMatch(/^derived:/);
  });
});
