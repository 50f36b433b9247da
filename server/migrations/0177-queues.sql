-- Call queues (ACD): callers wait with music and position announcements until an agent (an
-- extension) is free. Per call: which queue, how long the caller waited, and how it ended there.
-- Re-runnable.
CREATE TABLE IF NOT EXISTS call_queues (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL,
  strategy text NOT NULL CHECK (strategy IN ('longest-idle', 'round-robin', 'ring-all')),
  members text[] NOT NULL,
  ring_seconds integer NOT NULL CHECK (ring_seconds BETWEEN 5 AND 120),
  wrap_up_seconds integer NOT NULL CHECK (wrap_up_seconds BETWEEN 0 AND 600),
  max_wait_seconds integer NOT NULL CHECK (max_wait_seconds BETWEEN 5 AND 7200),
  announce_seconds integer NOT NULL CHECK (announce_seconds BETWEEN 0 AND 600),
  service_level_seconds integer NOT NULL CHECK (service_level_seconds BETWEEN 1 AND 600),
  music text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS call_queues_account_name ON call_queues (account_id, lower(name));

ALTER TABLE calls ADD COLUMN IF NOT EXISTS queue_name text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS queue_wait_seconds integer;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS queue_outcome text;
DO $$ BEGIN
  ALTER TABLE calls ADD CONSTRAINT calls_queue_outcome_check CHECK (queue_outcome IN ('answered', 'abandoned', 'timeout', 'no-agents'));
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
-- Answered within the queue's service-level time (null when not answered from a queue).
ALTER TABLE calls ADD COLUMN IF NOT EXISTS queue_within_service_level boolean;
CREATE INDEX IF NOT EXISTS calls_queue ON calls (account_id, started_at) WHERE queue_name IS NOT NULL;
