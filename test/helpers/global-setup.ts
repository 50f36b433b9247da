// Starts the project's own Postgres, Redis and rtpengine once per test run (no-op when
// already running, or when DATABASE_URL / REDIS_URL / RTPENGINE_NG point elsewhere).
// @ts-expect-error plain .mjs shared with `npm start`'s set-up, no types
import { startPostgres, startRedis, startRtpengine } from '../../infra/services.mjs';

export default async function setup(): Promise<void> {
  if (!process.env.DATABASE_URL) await startPostgres();
  if (!process.env.REDIS_URL) await startRedis();
  if (!process.env.RTPENGINE_NG) await startRtpengine();
}
