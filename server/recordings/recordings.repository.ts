import type { Queryable } from '../db/pool.js';

/** What a finished conversion stored (ConvertedRecording satisfies it). */
export interface StoredRecording {
  wavPath: string;
  compressedPath: string;
  durationSeconds: number;
  channels: number;
}

/** Links a converted recording to its call; false when the call row does not exist (yet). */
export async function attachRecording(db: Queryable, callId: string, r: StoredRecording): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE calls SET recording_status = 'ready', recording_path = $2, recording_mp3_path = $3,
       recording_duration_seconds = $4, recording_channels = $5, recording_error = NULL, recording_retry_at = NULL, updated_at = now()
     WHERE id = $1`,
    [callId, r.wavPath, r.compressedPath, r.durationSeconds, r.channels],
  );
  return (rowCount ?? 0) > 0;
}

/** Delays before the 2nd, 3rd, … attempt of a conversion; after the last one the call stays failed until retried by hand. */
export const RECORDING_RETRY_SECONDS = [60, 300, 1_800, 7_200, 21_600];

/** Marks the conversion failed with its reason and schedules the next attempt (if any left). */
export async function markRecordingFailed(db: Queryable, callId: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE calls SET recording_status = 'failed', recording_error = left($2, 500), recording_attempts = recording_attempts + 1,
       recording_retry_at = CASE WHEN recording_attempts < cardinality($3::int[])
         THEN now() + make_interval(secs => ($3::int[])[recording_attempts + 1]) END,
       updated_at = now()
     WHERE id = $1`,
    [callId, reason, RECORDING_RETRY_SECONDS],
  );
}

/** Marks a recording that no attempt can produce (no audio was exchanged): failed, with its reason, never retried. */
export async function markRecordingFinal(db: Queryable, callId: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE calls SET recording_status = 'failed', recording_error = left($2, 500), recording_attempts = recording_attempts + 1,
       recording_retry_at = NULL, updated_at = now()
     WHERE id = $1`,
    [callId, reason],
  );
}

/** A call whose recording is to be converted (again). */
export interface DueRecording {
  id: string;
  accountId: string;
  caller: string;
  trackingNumber: string;
  startedAt: string;
  callerMedia: { ip: string; port: number } | null;
}

/**
 * Calls whose recording is due: failed ones at their retry time, and pending ones the call path
 * never converted (the process died between storing the record and converting, or the record was
 * replayed from a spool by another process). `settledSeconds` leaves the call path its own turn.
 */
export async function listDueRecordings(db: Queryable, settledSeconds: number, limit: number): Promise<DueRecording[]> {
  const { rows } = await db.query<{
    id: string;
    account_id: string;
    caller: string;
    tracking_number: string;
    started_at: Date;
    caller_media: { ip: string; port: number } | null;
  }>(
    `SELECT id, account_id, caller, tracking_number, started_at, caller_media FROM calls
      WHERE (recording_status = 'failed' AND recording_retry_at <= now())
         OR (recording_status = 'pending' AND COALESCE(recording_retry_at, ended_at, started_at) <= now() - make_interval(secs => $1))
      ORDER BY COALESCE(recording_retry_at, ended_at) LIMIT $2`,
    [settledSeconds, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    accountId: r.account_id,
    caller: r.caller,
    trackingNumber: r.tracking_number,
    startedAt: r.started_at.toISOString(),
    callerMedia: r.caller_media,
  }));
}

/** Asks for another conversion now (a person pressed "retry"); false when the call has no recording to convert. */
export async function requestRecordingRetry(db: Queryable, accountId: string, callId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE calls SET recording_status = 'failed', recording_retry_at = now(), updated_at = now()
      WHERE id = $1 AND account_id = $2 AND recording_status IN ('failed', 'pending')`,
    [callId, accountId],
  );
  return (rowCount ?? 0) > 0;
}

export interface RecordingRow {
  status: string;
  wavPath: string | null;
  mp3Path: string | null;
  durationSeconds: number | null;
  channels: number | null;
}

export async function findRecording(db: Queryable, accountId: string, callId: string): Promise<RecordingRow | undefined> {
  const { rows } = await db.query<{
    recording_status: string;
    recording_path: string | null;
    recording_mp3_path: string | null;
    recording_duration_seconds: string | null;
    recording_channels: number | null;
  }>(
    `SELECT recording_status, recording_path, recording_mp3_path, recording_duration_seconds, recording_channels
       FROM calls WHERE id = $1 AND account_id = $2`,
    [callId, accountId],
  );
  const r = rows[0];
  return (
    r && {
      status: r.recording_status,
      wavPath: r.recording_path,
      mp3Path: r.recording_mp3_path,
      durationSeconds: r.recording_duration_seconds === null ? null : Number(r.recording_duration_seconds),
      channels: r.recording_channels,
    }
  );
}

/** Stored recordings of calls that started before `olderThan`, oldest first, for the retention sweep. */
export async function listExpiredRecordings(
  db: Queryable,
  olderThan: Date,
  limit = 500,
): Promise<Array<{ id: string; wavPath: string | null; mp3Path: string | null }>> {
  const { rows } = await db.query<{ id: string; recording_path: string | null; recording_mp3_path: string | null }>(
    `SELECT id, recording_path, recording_mp3_path FROM calls
      WHERE started_at < $1 AND (recording_path IS NOT NULL OR recording_mp3_path IS NOT NULL)
      ORDER BY started_at LIMIT $2`,
    [olderThan, limit],
  );
  return rows.map((r) => ({ id: r.id, wavPath: r.recording_path, mp3Path: r.recording_mp3_path }));
}

/** The files are gone (retention): the call keeps its row, without a recording. */
export async function clearRecording(db: Queryable, callId: string): Promise<void> {
  await db.query(
    `UPDATE calls SET recording_status = 'none', recording_path = NULL, recording_mp3_path = NULL,
       recording_duration_seconds = NULL, recording_channels = NULL, updated_at = now() WHERE id = $1`,
    [callId],
  );
}
