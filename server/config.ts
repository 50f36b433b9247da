import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The project's own service ports, shared with infra/setup.mjs so both agree without env vars. */
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const localServices = JSON.parse(fs.readFileSync(path.join(projectRoot, 'infra/local-services.json'), 'utf8')) as {
  dataDir: string;
  postgres: { host: string; port: number; user: string; database: string };
  redis: { host: string; port: number };
  rtpengine: { host: string; ngPort: number; dtmfLogPort: number };
};

const hostPort = z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected HOST:PORT');
const port = z.coerce.number().int().min(0).max(65535);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
/** "10.0.0.0/8, 192.168.1.7, ::1" → ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]; a bare address is one host. */
const cidrList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== ''),
  )
  .superRefine((list, ctx) => {
    for (const cidr of list) if (!isCidr(cidr)) ctx.addIssue({ code: 'custom', message: `"${cidr}" is not an IP address or CIDR` });
  })
  .transform((list) => list.map((cidr) => (cidr.includes('/') ? cidr : `${cidr}/${net.isIPv4(cidr) ? 32 : 128}`)));
const days = (fallback: number) => z.coerce.number().int().min(0).max(36_500).default(fallback);
const millis = (fallback: number) => z.coerce.number().int().min(0).max(3_600_000).default(fallback);

function isCidr(value: string): boolean {
  const [address = '', bits, extra] = value.split('/');
  const family = net.isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (family === 4 ? 32 : 128);
}

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(8080),
  PUBLIC_BASE_URL: z.url().optional(),
  SIP_HOST: z.string().min(1).default('127.0.0.1'),
  SIP_PORT: port.default(5060),
  SIP_PUBLIC_HOST: z.string().min(1).optional(),
  SIP_REALM: z.string().min(1).default('calltrack'),
  /** SIP over WebSocket for browser softphones (RFC 7118), on SIP_HOST; 0 turns it off. */
  SIP_WS_PORT: port.default(5066),
  /** PEM certificate and key files: the WebSocket port speaks WSS (TLS) when both are set. */
  SIP_WS_CERT: z.string().min(1).optional(),
  SIP_WS_KEY: z.string().min(1).optional(),
  /** What browsers connect to when that is not ws(s)://SIP_PUBLIC_HOST:SIP_WS_PORT (a TLS proxy in front). */
  SIP_WS_URL: z.url({ protocol: /^wss?$/ }).optional(),
  /** The longest a call may last; it is then hung up on both sides (a stuck or abused call frees its media). */
  MAX_CALL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(14_400),
  /**
   * The most calls this node carries at once; beyond it a new INVITE gets 503 with Retry-After (the
   * carrier fails over, the edge tries another node) instead of overloading rtpengine for every call
   * already up. 0 = no limit. Measured on a 2-core box: 1,000 calls with RTP held, 2,000 not.
   */
  SIP_MAX_CALLS: z.coerce.number().int().min(0).max(1_000_000).default(0),
  /** How often registered phones get an OPTIONS ping (keeps their NAT path open; 3 unanswered drop the binding); 0 = never. */
  SIP_KEEPALIVE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** How long a caller flagged as suspicious has to press 1 before the call ends. */
  SPAM_GATE_SECONDS: z.coerce.number().int().min(1).max(60).default(8),
  /** Country whose national number formats carriers send without "+" (ISO 3166 alpha-2). */
  DEFAULT_COUNTRY: z
    .string()
    .regex(/^[A-Z]{2}$/, 'expected an ISO country code such as RU')
    .default('RU'),
  /** Comma-separated addresses of the SIP edge (Kamailio): requests from them name the real source in X-Calltrack-Source. */
  SIP_TRUSTED_EDGE: z.string().default(''),
  DATABASE_URL: z
    .url()
    .default(`postgres://${localServices.postgres.user}@${localServices.postgres.host}:${localServices.postgres.port}/${localServices.postgres.database}`),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
  REDIS_URL: z.url().default(`redis://${localServices.redis.host}:${localServices.redis.port}`),
  REDIS_PREFIX: z.string().default('ct:'),
  RTPENGINE_NG: hostPort.default(`${localServices.rtpengine.host}:${localServices.rtpengine.ngPort}`),
  RTPENGINE_DTMF_LOG: hostPort.default(`${localServices.rtpengine.host}:${localServices.rtpengine.dtmfLogPort}`),
  RTPENGINE_RECORDING_DIR: z.string().default(path.join(projectRoot, localServices.dataDir, 'rtpengine-recordings')),
  RECORDINGS_DIR: z.string().default('./recordings'),
  /** Days to keep recordings (by the call's start); 0 keeps them forever. */
  RECORDING_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(0),
  DIALPLANS_DIR: z.string().default('./dialplans'),
  ADMIN_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  SECRET_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_ENABLED: bool.default(true),
  /** Snippet API requests per client address and minute (sessions and keep-alives, each). */
  DNI_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  /**
   * Processes that serve only the snippet (dni.js and /v1/dni) on DNI_PORT, besides the server
   * itself; 0 = none (the server's own port serves it, as always).
   */
  DNI_WORKERS: z.coerce.number().int().min(0).max(64).default(0),
  DNI_PORT: port.default(8081),
  // Security and durability (issue 14).
  /**
   * Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (a reverse proxy). By default a
   * proxy on this host (loopback): only local processes can connect from there, and nginx beside the
   * server then makes per-visitor limits count visitors, not nginx. Set it to "" to believe nobody.
   */
  TRUSTED_PROXIES: cidrList.default(['127.0.0.0/8', '::1/128']),
  /** Networks sinks may reach besides the public internet (on-prem CRMs, tests); private ranges are refused otherwise. */
  SINK_ALLOWED_NETWORKS: cidrList.default([]),
  /** Concurrent leases one client address (IPv4, or IPv6 /64) and one IPv4 /24 may hold in a pool; 0 = no cap. */
  DNI_MAX_LEASES_PER_IP: z.coerce.number().int().min(0).default(5),
  DNI_MAX_LEASES_PER_SUBNET: z.coerce.number().int().min(0).default(50),
  /** Days to keep website sessions not referenced by a call; 0 keeps them forever. */
  DNI_SESSION_RETENTION_DAYS: days(400),
  /** Days to keep delivered leads in the outbox (dead ones are kept); 0 keeps them forever. */
  LEAD_RETENTION_DAYS: days(30),
  DATABASE_STATEMENT_TIMEOUT_MS: millis(15_000),
  HTTP_REQUEST_TIMEOUT_MS: millis(30_000),
  HTTP_CONNECTION_TIMEOUT_MS: millis(120_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: millis(72_000),
  /** Sign-in attempts per second across all addresses (password hashing is costly). */
  SIGN_IN_PER_SECOND: z.coerce.number().int().min(1).default(20),
  /** Lifetime of the signed recording links put into leads for CRMs. */
  RECORDING_LINK_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  PID_FILE: z.string().default(path.join(localServices.dataDir, 'server.pid')),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  projectRoot: string;
  http: {
    host: string;
    port: number;
    publicBaseUrl: string;
    trustedProxies: string[];
    requestTimeoutMs: number;
    connectionTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
  sip: {
    host: string;
    port: number;
    publicHost: string;
    realm: string;
    defaultCountry: string;
    maxCallSeconds: number;
    /** 0 = no limit. */
    maxCalls: number;
    keepaliveSeconds: number;
    spamGateSeconds: number;
    trustedEdges: string[];
    /** Undefined when SIP_WS_PORT is 0. */
    ws: { port: number; tls: { certFile: string; keyFile: string } | undefined; publicUrl: string } | undefined;
  };
  database: { url: string; poolSize: number; statementTimeoutMs: number };
  redis: { url: string; prefix: string };
  rtpengine: { ng: { host: string; port: number }; dtmfLog: { host: string; port: number }; recordingDir: string };
  recordingsDir: string;
  recordingRetentionDays: number;
  dialplansDir: string;
  adminApiKey: string | undefined;
  /**
   * Signs recording URLs, browser sessions and SIP nonces. Outside production it falls back to a value derived from
   * ADMIN_API_KEY so development needs one secret; production refuses to start without SECRET_KEY.
   */
  secretKey: string;
  metricsEnabled: boolean;
  pidFile: string;
  sinks: { allowedNetworks: string[] };
  dni: { rateLimitPerMinute: number; maxLeasesPerIp: number; maxLeasesPerSubnet: number; sessionRetentionDays: number; workers: number; port: number };
  leadRetentionDays: number;
  signInPerSecond: number;
  recordingLinkDays: number;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function splitHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  return { host: value.slice(0, i), port: Number(value.slice(i + 1)) };
}

/** WSS needs both files, and readable ones: a typo must stop the start, not the first browser's handshake. */
function wsTlsOf(e: Env, resolve: (p: string) => string): { certFile: string; keyFile: string } | undefined {
  if (!e.SIP_WS_CERT && !e.SIP_WS_KEY) return undefined;
  if (!e.SIP_WS_CERT || !e.SIP_WS_KEY) throw new ConfigError(['SIP_WS_CERT / SIP_WS_KEY: set both (WSS) or neither (plain WS)']);
  const files = { certFile: resolve(e.SIP_WS_CERT), keyFile: resolve(e.SIP_WS_KEY) };
  const unreadable = Object.entries({ SIP_WS_CERT: files.certFile, SIP_WS_KEY: files.keyFile }).filter(([, file]) => {
    try {
      fs.accessSync(file, fs.constants.R_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (unreadable.length > 0) throw new ConfigError(unreadable.map(([name, file]) => `${name}: cannot read ${file}`));
  return files;
}

/** Parses the environment once; every bad variable is reported together. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const relevant = Object.fromEntries(Object.keys(EnvSchema.shape).map((k) => [k, source[k] === '' ? undefined : source[k]]));
  const parsed = EnvSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  // A guessable secret lets anyone forge recording links and CSRF tokens.
  if (e.NODE_ENV === 'production' && !e.SECRET_KEY) {
    throw new ConfigError(['SECRET_KEY: required when NODE_ENV=production (at least 16 random characters, e.g. `openssl rand -base64 32`)']);
  }
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.join(projectRoot, p));
  const wsTls = wsTlsOf(e, resolve);
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    projectRoot,
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      publicBaseUrl: e.PUBLIC_BASE_URL ?? `http://${e.HTTP_HOST}:${e.HTTP_PORT}`,
      trustedProxies: e.TRUSTED_PROXIES,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      connectionTimeoutMs: e.HTTP_CONNECTION_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    sip: {
      host: e.SIP_HOST,
      port: e.SIP_PORT,
      publicHost: e.SIP_PUBLIC_HOST ?? e.SIP_HOST,
      realm: e.SIP_REALM,
      defaultCountry: e.DEFAULT_COUNTRY,
      maxCallSeconds: e.MAX_CALL_SECONDS,
      maxCalls: e.SIP_MAX_CALLS,
      keepaliveSeconds: e.SIP_KEEPALIVE_SECONDS,
      spamGateSeconds: e.SPAM_GATE_SECONDS,
      trustedEdges: e.SIP_TRUSTED_EDGE.split(',')
        .map((address) => address.trim())
        .filter(Boolean),
      ws:
        e.SIP_WS_PORT === 0
          ? undefined
          : {
              port: e.SIP_WS_PORT,
              tls: wsTls,
              publicUrl: e.SIP_WS_URL ?? `${wsTls ? 'wss' : 'ws'}://${e.SIP_PUBLIC_HOST ?? e.SIP_HOST}:${e.SIP_WS_PORT}`,
            },
    },
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    rtpengine: { ng: splitHostPort(e.RTPENGINE_NG), dtmfLog: splitHostPort(e.RTPENGINE_DTMF_LOG), recordingDir: resolve(e.RTPENGINE_RECORDING_DIR) },
    recordingsDir: resolve(e.RECORDINGS_DIR),
    recordingRetentionDays: e.RECORDING_RETENTION_DAYS,
    dialplansDir: resolve(e.DIALPLANS_DIR),
    adminApiKey: e.ADMIN_API_KEY,
    secretKey: e.SECRET_KEY ?? `derived:${e.ADMIN_API_KEY ?? 'development-only-secret'}`,
    metricsEnabled: e.METRICS_ENABLED,
    pidFile: resolve(e.PID_FILE),
    sinks: { allowedNetworks: e.SINK_ALLOWED_NETWORKS },
    dni: {
      rateLimitPerMinute: e.DNI_RATE_LIMIT_PER_MINUTE,
      maxLeasesPerIp: e.DNI_MAX_LEASES_PER_IP,
      maxLeasesPerSubnet: e.DNI_MAX_LEASES_PER_SUBNET,
      sessionRetentionDays: e.DNI_SESSION_RETENTION_DAYS,
      workers: e.DNI_WORKERS,
      port: e.DNI_PORT,
    },
    leadRetentionDays: e.LEAD_RETENTION_DAYS,
    signInPerSecond: e.SIGN_IN_PER_SECOND,
    recordingLinkDays: e.RECORDING_LINK_DAYS,
  };
}
