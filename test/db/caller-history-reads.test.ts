/**
 * The per-call reads of one caller's history (attribution's earlier calls, the sticky agent) read a
 * handful of rows even for a caller with thousands of calls the table's statistics do not know
 * about yet (a robocaller's burst). Counted with Postgres's own per-table and per-index counters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAttributionFacts, PRIOR_CALLS_COUNTED } from '../../server/attribution/attribution.repository.js';
import { lastAnsweredTarget } from '../../server/calls/calls.repository.js';
import type { Queryable } from '../../server/db/pool.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const ACCOUNT = '00000000-0000-0000-0000-000000000001';
const ROBOCALLER = '+79165550000';
const TRACKING = '+74957771100';
let h: Harness;

beforeAll(async () => {
  h = await createHarness();
  // Statistics taken while the caller had not called yet: the planner expects next to nothing of them.
  await h.db.query(
    `INSERT INTO calls (account_id, sip_call_id, tracking_number, caller, started_at)
     SELECT $1, 'other-' || g, $2, '+7916' || lpad(g::text, 7, '0'), now() - make_interval(hours => g) FROM generate_series(1, 200) g`,
    [ACCOUNT, TRACKING],
  );
  await h.db.query('ANALYZE calls');
  // Then 4,000 calls from one number, one a second, none answered but the very first.
  await h.db.query(
    `INSERT INTO calls (account_id, sip_call_id, tracking_number, caller, started_at, answered_target)
     SELECT $1, 'robo-' || g, $2, $3, now() - make_interval(secs => g), CASE WHEN g = 4000 THEN 'sip:first@127.0.0.2' END
       FROM generate_series(1, 4000) g`,
    [ACCOUNT, TRACKING, ROBOCALLER],
  );
});
afterAll(() => h.close());

interface Reads {
  seq: number;
  index: number;
}

/** Rows this schema's calls table has handed out so far, by sequential scans and by index scans. */
async function callsReads(): Promise<Reads> {
  const { rows } = await h.db.query<{ seq: string; idx: string }>(
    `SELECT coalesce(t.seq_tup_read, 0) AS seq,
            (SELECT coalesce(sum(i.idx_tup_read), 0) FROM pg_stat_user_indexes i WHERE i.relid = t.relid) AS idx
       FROM pg_stat_user_tables t WHERE t.schemaname = current_schema() AND t.relname = 'calls'`,
  );
  return { seq: Number(rows[0]!.seq), index: Number(rows[0]!.idx) };
}

/**
 * What `read` costs in rows of the calls table. It runs on one connection, which is then told to
 * report its counters when it next goes idle (Postgres otherwise holds them back for up to 10 s).
 */
async function rowsRead(read: (db: Queryable) => Promise<unknown>): Promise<Reads> {
  const before = await callsReads();
  const client = await h.db.connect();
  try {
    await read(client);
    await client.query('SELECT pg_stat_force_next_flush()');
  } finally {
    client.release();
  }
  let after = await callsReads();
  for (let i = 0; i < 50 && after.index === before.index && after.seq === before.seq; i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = await callsReads();
  }
  return { seq: after.seq - before.seq, index: after.index - before.index };
}

describe('one caller with thousands of calls', () => {
  it("attribution counts the robocaller's earlier calls reading no more than it counts", async () => {
    let priorCalls = -1;
    const reads = await rowsRead(async (db) => {
      priorCalls = (await findAttributionFacts(db, { accountId: ACCOUNT, number: TRACKING, at: new Date(), caller: ROBOCALLER }, 3600)).prior.total;
    });
    expect(priorCalls).toBe(PRIOR_CALLS_COUNTED);
    expect(reads.seq).toBe(0);
    expect(reads.index).toBeGreaterThan(0);
    expect(reads.index).toBeLessThanOrEqual(PRIOR_CALLS_COUNTED + 10);
  });

  it("the sticky agent is found without walking the caller's unanswered calls", async () => {
    let agent: string | undefined;
    const reads = await rowsRead(async (db) => {
      agent = await lastAnsweredTarget(db, ACCOUNT, ROBOCALLER);
    });
    expect(agent).toBe('sip:first@127.0.0.2');
    expect(reads.seq).toBe(0);
    expect(reads.index).toBeGreaterThan(0);
    expect(reads.index).toBeLessThanOrEqual(5);
  });
});
