-- Visitor sessions of the website snippet, pool exhaustion events, and who owned a static
-- number when (so late callers to a released flyer number still reach its campaign).

CREATE TABLE IF NOT EXISTS dni_sessions (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  site_id uuid NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  pool_id uuid REFERENCES pools(id) ON DELETE SET NULL,
  visitor_id text NOT NULL,
  url text,
  landing_page text,
  referrer text,
  utm_source text,
  utm_medium text,
  utm_campaign text,
  utm_term text,
  utm_content text,
  gclid text,
  gbraid text,
  wbraid text,
  fbclid text,
  msclkid text,
  yclid text,
  ga_client_id text,
  ym_client_id text,
  user_agent text,
  ip inet,
  bot boolean NOT NULL DEFAULT false,
  -- The number first shown; the lease history says which number it held when.
  number text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dni_sessions_site_created ON dni_sessions (site_id, created_at DESC);
CREATE INDEX IF NOT EXISTS dni_sessions_visitor ON dni_sessions (visitor_id, created_at DESC);

-- Keep-alives extend a lease row found by (session, number, start).
CREATE INDEX IF NOT EXISTS number_leases_pool_during ON number_leases USING gist (pool_id, during);

-- Every time a visitor found the pool exhausted: the default number was shown or a number shared.
CREATE TABLE IF NOT EXISTS pool_exhaustion_events (
  id bigserial PRIMARY KEY,
  pool_id uuid NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
  session_id uuid,
  policy text NOT NULL CHECK (policy IN ('default_number', 'share')),
  at timestamptz NOT NULL DEFAULT now(),
  -- How long that visitor would have held a number (the pool's hold at the time): demand for sizing advice.
  hold_seconds integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pool_exhaustion_events_pool_at ON pool_exhaustion_events (pool_id, at);

-- Ownership of numbers by static sources over time, kept by a trigger so every code path records it.
CREATE TABLE IF NOT EXISTS source_number_history (
  id bigserial PRIMARY KEY,
  number_id uuid NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
  source_id uuid NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  during tstzrange NOT NULL,
  EXCLUDE USING gist (number_id WITH =, during WITH &&)
);
CREATE INDEX IF NOT EXISTS source_number_history_source ON source_number_history (source_id);

CREATE OR REPLACE FUNCTION track_source_numbers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.source_id IS NOT DISTINCT FROM NEW.source_id THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.source_id IS NOT NULL THEN
    UPDATE source_number_history SET during = tstzrange(lower(during), now())
     WHERE number_id = OLD.id AND source_id = OLD.source_id AND upper_inf(during);
  END IF;
  IF NEW.source_id IS NOT NULL THEN
    INSERT INTO source_number_history (number_id, source_id, during) VALUES (NEW.id, NEW.source_id, tstzrange(now(), NULL));
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS numbers_source_history ON numbers;
CREATE TRIGGER numbers_source_history AFTER INSERT OR UPDATE OF source_id ON numbers
  FOR EACH ROW EXECUTE FUNCTION track_source_numbers();

-- Numbers already owned by sources when this migration runs; a number that already has
-- history over that span (a re-run, or the trigger recorded it) is left alone.
INSERT INTO source_number_history (number_id, source_id, during)
  SELECT id, source_id, tstzrange(created_at, NULL) FROM numbers
   WHERE source_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM source_number_history h WHERE h.number_id = numbers.id AND h.during && tstzrange(numbers.created_at, NULL));
