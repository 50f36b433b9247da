-- Visitors refused a lease because their address (or its /24) already held its cap, per pool and hour:
-- pool usage reports them (a script draining a pool shows up here instead of as exhaustion).
CREATE TABLE IF NOT EXISTS pool_client_cap_refusals (
  pool_id uuid NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
  hour timestamptz NOT NULL,
  refused integer NOT NULL DEFAULT 0,
  PRIMARY KEY (pool_id, hour)
);

-- Retention sweeps: old website sessions by age, delivered outbox rows by delivery time.
CREATE INDEX IF NOT EXISTS dni_sessions_created ON dni_sessions (created_at);
CREATE INDEX IF NOT EXISTS lead_deliveries_done_at ON lead_deliveries (delivered_at) WHERE status IN ('delivered', 'skipped');
CREATE INDEX IF NOT EXISTS lead_events_created ON lead_events (created_at);
