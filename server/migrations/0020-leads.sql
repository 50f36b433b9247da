-- Leads: configured sinks, the outbox of call events, per-sink deliveries and the analytics fact table.

CREATE TABLE IF NOT EXISTS lead_sinks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('webhook', 'amocrm', 'bitrix24', 'ga4', 'metrica', 'analytics')),
  name text NOT NULL,
  -- Validated by the sink's zod schema before insert; holds secrets, never returned unmasked.
  config jsonb NOT NULL,
  -- Event types this sink receives; deliveries are only created for these.
  events text[] NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS lead_sinks_account ON lead_sinks (account_id) WHERE enabled;

-- The outbox. call.completed rows commit in the same transaction as the call record.
-- No foreign key to calls: call.started is written while the call is still ringing, before its row exists.
CREATE TABLE IF NOT EXISTS lead_events (
  id bigserial PRIMARY KEY,
  uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  call_id uuid NOT NULL,
  type text NOT NULL CHECK (type IN ('call.started', 'call.completed', 'call.recording_ready', 'call.modified')),
  -- Snapshot taken when the event happened (the webhook body's "data"): a retry sends the same facts.
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS lead_events_call ON lead_events (call_id, id);

CREATE TABLE IF NOT EXISTS lead_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Orders deliveries of one call to one sink: event ids grow in the order events happened.
  event_id bigint NOT NULL REFERENCES lead_events(id) ON DELETE CASCADE,
  sink_id uuid NOT NULL REFERENCES lead_sinks(id) ON DELETE CASCADE,
  call_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead', 'skipped')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- The maximum age counts from here: the first try, or the last replay.
  retry_since timestamptz NOT NULL DEFAULT now(),
  -- A claimed delivery is invisible to other workers until this passes (a crashed worker's claim expires).
  locked_until timestamptz,
  last_error text,
  last_status integer,
  -- Multi-step sinks (amoCRM, Bitrix24) remember finished steps so a retry resumes instead of repeating.
  progress jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (event_id, sink_id)
);
-- The worker's queue scan: only open deliveries, by due time.
CREATE INDEX IF NOT EXISTS lead_deliveries_due ON lead_deliveries (next_attempt_at) WHERE status = 'pending';
-- The "earlier event of this call still open for this sink" check.
CREATE INDEX IF NOT EXISTS lead_deliveries_order ON lead_deliveries (sink_id, call_id, event_id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS lead_deliveries_sink ON lead_deliveries (sink_id, created_at DESC);

-- The internal analytics store: one row per completed call, what reports aggregate.
CREATE TABLE IF NOT EXISTS call_facts (
  call_id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  day date NOT NULL,
  started_at timestamptz NOT NULL,
  tracking_number text NOT NULL,
  source_id uuid,
  source text,
  medium text,
  campaign text,
  keyword text,
  confidence text NOT NULL,
  overflow boolean NOT NULL DEFAULT false,
  disposition text NOT NULL,
  answered boolean NOT NULL,
  talk_seconds integer NOT NULL DEFAULT 0,
  ring_seconds integer NOT NULL DEFAULT 0,
  first_time boolean,
  -- Cost attribution: the source's cost model at the time of the call (reports divide by calls per source).
  source_cost numeric(14, 2),
  source_currency text,
  source_starts_on date,
  source_ends_on date,
  value numeric(14, 2),
  score integer,
  tags text[] NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS call_facts_account_day ON call_facts (account_id, day);
CREATE INDEX IF NOT EXISTS call_facts_source ON call_facts (account_id, source_id, day);
