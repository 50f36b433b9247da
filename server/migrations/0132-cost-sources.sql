-- Ad cost connectors (Yandex Direct, Google Ads). pulled_through is the last day stored completely:
-- a pull that fails leaves it where it was, so the next pull starts from the same day (no gap),
-- and every pull replaces the days it covers (no double count). Re-runnable.
CREATE TABLE IF NOT EXISTS cost_sources (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('yandex_direct', 'google_ads')),
  name text NOT NULL,
  -- Validated by the connector's zod schema; holds the OAuth token, never returned unmasked.
  config jsonb NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  pulled_through date,
  next_pull_at timestamptz NOT NULL DEFAULT now(),
  failures integer NOT NULL DEFAULT 0,
  last_pull_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cost_sources_due ON cost_sources (next_pull_at) WHERE enabled;
CREATE INDEX IF NOT EXISTS ad_costs_cost_source ON ad_costs (cost_source_id, day) WHERE cost_source_id IS NOT NULL;

-- The ROI report counts an account's website visits in a period.
CREATE INDEX IF NOT EXISTS dni_sessions_account_created ON dni_sessions (account_id, created_at);
