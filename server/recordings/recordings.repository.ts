import type { Queryable } from '../db/pool.js';

export interface StoredRecording { wavPath: string; mp3Path: string; durationSeconds: number; channels: number }

export async function markRecordingReady(db: Queryable, callId: string, r: StoredRecording): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE calls SET recording_status = 'ready', recording_path = $2, recording_mp3_path = $3,
       recording_duration_seconds = $4, recording_channels = $5, updated_at = now() WHERE id = $1`,
    [callId, r.wavPath, r.mp3Path, r.durationSeconds, r.channels],
  );
  return (rowCount ?? 0) > 0;
}

export async function markRecordingFailed(db: Queryable, callId: string): Promise<void> {
  await db.query(`UPDATE calls SET recording_status = 'failed', updated_at = now() WHERE id = $1`, [callId]);
}

export async function findRecording(db: Queryable, accountId: string, callId: string): Promise<{ status: string; wavPath: string | null; mp3Path: string | null } | undefined> {
  const { rows } = await db.query<{ recording_status: string; recording_path: string | null; recording_mp3_path: string | null }>(
    'SELECT recording_status, recording_path, recording_mp3_path FROM calls WHERE id = $1 AND account_id = $2', [callId, accountId]);
  const r = rows[0];
  return r && { status: r.recording_status, wavPath: r.recording_path, mp3Path: r.recording_mp3_path };
}

/** Recordings older than the retention period, for the sweep. */
export async function listExpiredRecordings(db: Queryable, olderThan: Date, limit = 500): Promise<Array<{ id: string; wavPath: string | null; mp3Path: string | null }>> {
  const { rows } = await db.query<{ id: string; recording_path: string | null; recording_mp3_path: string | null }>(
    `SELECT id, recording_path, recording_mp3_path FROM calls WHERE recording_status = 'ready' AND started_at < $1 LIMIT $2`, [olderThan, limit]);
  return rows.map((r) => ({ id: r.id, wavPath: r.recording_path, mp3Path: r.recording_mp3_path }));
}

export async function clearRecording(db: Queryable, callId: string): Promise<void> {
  await db.query(`UPDATE calls SET recording_status = 'none', recording_path = NULL, recording_mp3_path = NULL, updated_at = now() WHERE id = $1`, [callId]);
}
