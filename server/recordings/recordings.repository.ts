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
       recording_duration_seconds = $4, recording_channels = $5, updated_at = now() WHERE id = $1`,
    [callId, r.wavPath, r.compressedPath, r.durationSeconds, r.channels],
  );
  return (rowCount ?? 0) > 0;
}

export async function markRecordingFailed(db: Queryable, callId: string): Promise<void> {
  await db.query(`UPDATE calls SET recording_status = 'failed', updated_at = now() WHERE id = $1`, [callId]);
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
