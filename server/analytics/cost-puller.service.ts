import type { Db } from '../db/pool.js';
import { withTransaction } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { fetchGoogleAdsCosts } from './connectors/google-ads.js';
import { ConnectorError, fetchDirectCosts } from './connectors/yandex-direct.js';
import * as repo from './cost-sources.repository.js';
import { GoogleAdsConfig, YandexDirectConfig } from './cost-sources.schemas.js';
import type { CostRow } from './costs.csv.js';
import { replaceCosts } from './costs.repository.js';

/** Costs of the last days still change (invalid clicks, late billing): every scheduled pull takes them again. */
const SETTLE_DAYS = 3;
/** A new source starts with this much history; more is a backfill. */
const FIRST_PULL_DAYS = 30;
/** After failures: 1 min, 5 min, 30 min, 2 h, then every 6 h until it works. */
const RETRY_MINUTES = [1, 5, 30, 120, 360];
/** Scheduled pulls run once a day at this UTC hour (yesterday is complete by then in every zone that matters). */
const DAILY_HOUR_UTC = 5;

const DAY_MS = 86_400_000;
const dayOf = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (day: string, n: number) => dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));

export interface PullOutcome {
  from: string;
  to: string;
  rows: number;
  pulledThrough: string | null;
}

export interface CostPuller {
  /** Pulls one source for [from, to] now (a backfill, or the scheduled range when none is given). */
  pull(source: repo.CostSourceRow, range?: { from: string; to: string }): Promise<PullOutcome>;
  /** Pulls every due source once (the scheduler's tick; tests call it directly). */
  tick(): Promise<void>;
  close(): void;
}

export function createCostPuller(o: { db: Db; logger: Logger; intervalMs: number; now?: () => Date; retryScale?: number }): CostPuller {
  const now = o.now ?? (() => new Date());
  const log = o.logger.child({ component: 'cost-puller' });

  async function fetchRows(source: repo.CostSourceRow, from: string, to: string): Promise<CostRow[]> {
    if (source.kind === 'yandex_direct') return fetchDirectCosts(YandexDirectConfig.parse(source.config), from, to, { retryScale: o.retryScale ?? 1 });
    return fetchGoogleAdsCosts(GoogleAdsConfig.parse(source.config), from, to);
  }

  function nextDaily(): Date {
    const at = now();
    const next = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), DAILY_HOUR_UTC));
    return next > at ? next : new Date(next.getTime() + DAY_MS);
  }

  async function pull(source: repo.CostSourceRow, range?: { from: string; to: string }): Promise<PullOutcome> {
    const yesterday = addDays(dayOf(now()), -1);
    const to = range?.to ?? yesterday;
    const from = range?.from ?? (source.pulled_through ? addDays(source.pulled_through, 1 - SETTLE_DAYS) : addDays(yesterday, 1 - FIRST_PULL_DAYS));
    if (from > to) return { from, to, rows: 0, pulledThrough: source.pulled_through };
    const scheduled = range === undefined;
    try {
      const rows = await fetchRows(source, from, to);
      const outside = rows.find((r) => r.day < from || r.day > to || r.campaign === '');
      if (outside) throw new ConnectorError(`the provider answered a row outside ${from}..${to} or without a campaign (${outside.day} ${outside.campaign})`);
      // One transaction: the days are replaced whole or not at all, so a failure never leaves half a day.
      const pulledThrough = await withTransaction(o.db, async (trx) => {
        await repo.clearSourceDays(trx, source.id, from, to);
        await replaceCosts(trx, source.account_id, rows, source.kind, source.id);
        return repo.markPulled(trx, source.id, from, to, scheduled ? nextDaily() : null);
      });
      log.info({ costSourceId: source.id, from, to, rows: rows.length, type: 'cost_pull_done' }, 'ad costs pulled');
      return { from, to, rows: rows.length, pulledThrough };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const delay = RETRY_MINUTES[Math.min(source.failures, RETRY_MINUTES.length - 1)]!;
      await repo.markFailed(o.db, source.id, message, scheduled ? new Date(now().getTime() + delay * 60_000) : null).catch(() => {});
      log.warn({ costSourceId: source.id, from, to, err: message, type: 'cost_pull_failed' }, 'ad cost pull failed; the same days are pulled again later');
      throw err;
    }
  }

  let busy = false;
  async function tick(): Promise<void> {
    // Two sources at a time at most: providers rate-limit per account, and this is background work.
    for (const source of await repo.claimDue(o.db, 2, 900)) await pull(source).catch(() => {});
  }
  const timer =
    o.intervalMs > 0
      ? setInterval(() => {
          // A slow provider may outlast the interval: one tick at a time.
          if (busy) return;
          busy = true;
          tick()
            .catch((err: unknown) => log.warn({ err }, 'cost pull tick failed'))
            .finally(() => {
              busy = false;
            });
        }, o.intervalMs).unref()
      : undefined;

  return { pull, tick, close: () => clearInterval(timer) };
}
