-- Recording conversions that fail are retried with backoff by a sweeper, and the reason is shown
-- on the call. The caller's media address (from its SDP) is kept with the record so a conversion
-- retried later still tells the caller's stream from the agent's. Re-runnable.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS caller_media jsonb;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS recording_error text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS recording_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS recording_retry_at timestamptz;
CREATE INDEX IF NOT EXISTS calls_recording_due ON calls (recording_retry_at)
  WHERE recording_status IN ('pending', 'failed');
