-- Call records, tags and notes. One row per inbound call on a tracking number.
CREATE TABLE IF NOT EXISTS calls (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sip_call_id text NOT NULL UNIQUE,
  trunk_id uuid REFERENCES trunks(id) ON DELETE SET NULL,
  number_id uuid REFERENCES numbers(id) ON DELETE SET NULL,
  tracking_number text NOT NULL,
  caller text NOT NULL,
  caller_name text,
  dialplan text,
  started_at timestamptz NOT NULL,
  answered_at timestamptz,
  ended_at timestamptz,
  disposition text CHECK (disposition IN ('answered', 'busy', 'no-answer', 'failed', 'cancelled', 'voicemail')),
  talk_seconds integer NOT NULL DEFAULT 0,
  ring_seconds integer NOT NULL DEFAULT 0,
  answered_by text,
  hangup_by text CHECK (hangup_by IN ('caller', 'callee', 'system')),
  final_sip_status integer,
  ivr_digits text,
  -- Attribution snapshot taken when the INVITE arrived.
  session_id uuid,
  source_id uuid REFERENCES sources(id) ON DELETE SET NULL,
  pool_id uuid REFERENCES pools(id) ON DELETE SET NULL,
  confidence text NOT NULL DEFAULT 'none' CHECK (confidence IN ('exact', 'ambiguous', 'static', 'none')),
  attribution jsonb NOT NULL DEFAULT '{}',
  first_time boolean,
  prior_calls integer NOT NULL DEFAULT 0,
  recording_status text NOT NULL DEFAULT 'none' CHECK (recording_status IN ('none', 'pending', 'ready', 'failed')),
  recording_path text,
  recording_mp3_path text,
  recording_duration_seconds numeric(10, 2),
  recording_channels integer,
  voicemail_path text,
  score integer CHECK (score BETWEEN 0 AND 100),
  value numeric(14, 2),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS calls_account_started ON calls (account_id, started_at DESC);
CREATE INDEX IF NOT EXISTS calls_caller ON calls (caller, started_at DESC);
CREATE INDEX IF NOT EXISTS calls_tracking_number ON calls (tracking_number, started_at DESC);
CREATE INDEX IF NOT EXISTS calls_source ON calls (source_id) WHERE source_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS calls_session ON calls (session_id) WHERE session_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS call_tags (
  call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
  tag text NOT NULL CHECK (length(tag) BETWEEN 1 AND 64),
  origin text NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'rule')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (call_id, tag)
);
CREATE INDEX IF NOT EXISTS call_tags_tag ON call_tags (tag);

CREATE TABLE IF NOT EXISTS call_notes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
  author text NOT NULL,
  text text NOT NULL CHECK (length(text) BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS call_notes_call ON call_notes (call_id, created_at);
