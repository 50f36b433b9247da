import type { Queryable } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import * as repo from './numbers.repository.js';

/**
 * Gives provisioned, unowned numbers to a pool or a static source. All or nothing: call it
 * inside the transaction that creates the owner. A number in quarantine (recently released by a
 * static source) cannot join a pool yet: late callers from the old flyer would be misattributed.
 */
export async function claimNumbers(db: Queryable, accountId: string, numbers: string[], owner: { poolId: string } | { sourceId: string }): Promise<void> {
  if (numbers.length === 0) return;
  const unique = [...new Set(numbers)];
  const found = await repo.findNumbersByValue(db, accountId, unique);
  const missing = unique.filter((n) => !found.some((f) => f.number === n));
  if (missing.length > 0) throw ERRORS.validation(`numbers not provisioned (POST /v1/numbers first): ${missing.join(', ')}`);
  const taken = found.filter((n) => n.poolId !== null || n.sourceId !== null);
  if (taken.length > 0) throw ERRORS.conflict(`numbers already belong to a pool or source: ${taken.map((n) => n.number).join(', ')}`);
  if ('poolId' in owner) {
    const now = Date.now();
    const quarantined = found.filter((n) => n.quarantineUntil !== null && Date.parse(n.quarantineUntil) > now);
    if (quarantined.length > 0)
      throw ERRORS.conflict(
        `numbers in quarantine after leaving a static source: ${quarantined.map((n) => `${n.number} until ${n.quarantineUntil}`).join(', ')}`,
      );
  }
  const assigned = await repo.assignNumbers(
    db,
    accountId,
    found.map((n) => n.id),
    owner,
  );
  // Another request claimed one of them between our read and write.
  if (assigned !== found.length) throw ERRORS.conflict('some numbers were claimed concurrently; retry');
}

/**
 * The digit strings a search matches, from what a person typed in any format. A leading trunk
 * prefix ("8 495…" in Russia, "0 20…" in much of Europe) is not in the E.164 form, so the digits
 * without it are tried too.
 */
export function searchDigits(q: string): string[] {
  const digits = q.replace(/\D/g, '');
  if (digits === '') return [];
  return /^[08]\d{3,}/.test(digits) ? [digits, digits.slice(1)] : [digits];
}
