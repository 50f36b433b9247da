import fs from 'node:fs';
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
  PID_FILE: z.string().default(path.join(localServices.dataDir, 'server.pid')),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  projectRoot: string;
  http: { host: string; port: number; publicBaseUrl: string };
  sip: { host: string; port: number; publicHost: string; realm: string; trustedEdges: string[] };
  database: { url: string; poolSize: number };
  redis: { url: string; prefix: string };
  rtpengine: { ng: { host: string; port: number }; dtmfLog: { host: string; port: number }; recordingDir: string };
  recordingsDir: string;
  recordingRetentionDays: number;
  dialplansDir: string;
  adminApiKey: string | undefined;
  /** Signs recording URLs and browser sessions; derived from ADMIN_API_KEY when not set so dev needs one secret. */
  secretKey: string;
  metricsEnabled: boolean;
  dni: { rateLimitPerMinute: number };
  pidFile: string;
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

/** Parses the environment once; every bad variable is reported together. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const relevant = Object.fromEntries(Object.keys(EnvSchema.shape).map((k) => [k, source[k] === '' ? undefined : source[k]]));
  const parsed = EnvSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.join(projectRoot, p));
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    projectRoot,
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT, publicBaseUrl: e.PUBLIC_BASE_URL ?? `http://${e.HTTP_HOST}:${e.HTTP_PORT}` },
    sip: {
      host: e.SIP_HOST,
      port: e.SIP_PORT,
      publicHost: e.SIP_PUBLIC_HOST ?? e.SIP_HOST,
      realm: e.SIP_REALM,
      trustedEdges: e.SIP_TRUSTED_EDGE.split(',')
        .map((address) => address.trim())
        .filter(Boolean),
    },
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    rtpengine: { ng: splitHostPort(e.RTPENGINE_NG), dtmfLog: splitHostPort(e.RTPENGINE_DTMF_LOG), recordingDir: resolve(e.RTPENGINE_RECORDING_DIR) },
    recordingsDir: resolve(e.RECORDINGS_DIR),
    recordingRetentionDays: e.RECORDING_RETENTION_DAYS,
    dialplansDir: resolve(e.DIALPLANS_DIR),
    adminApiKey: e.ADMIN_API_KEY,
    secretKey: e.SECRET_KEY ?? `derived:${e.ADMIN_API_KEY ?? 'development-only-secret'}`,
    metricsEnabled: e.METRICS_ENABLED,
    dni: { rateLimitPerMinute: e.DNI_RATE_LIMIT_PER_MINUTE },
    pidFile: resolve(e.PID_FILE),
  };
}
