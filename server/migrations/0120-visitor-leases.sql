-- Visitor-level leases, safe reuse and measured call delays (issue 12). Re-runnable.
--
-- A lease is held by a visitor (ct_vid) now, not by one page view: every tab and page view of
-- the visitor on the site shares it. session_id stays the page view that opened the lease;
-- visitor_id names the holder (NULL on older rows: the session was the holder then).
ALTER TABLE number_leases ADD COLUMN IF NOT EXISTS visitor_id text;
-- The number was handed out while still cooling down after its previous holder (every free
-- number was): a call on it may be the previous visitor's late call, so it is never `exact`.
ALTER TABLE number_leases ADD COLUMN IF NOT EXISTS reused_in_cooldown boolean NOT NULL DEFAULT false;

-- How long a released number rests before another visitor gets it: the p99 of measured
-- "call after last activity" delays of this pool (NULL until calls were measured).
ALTER TABLE pools ADD COLUMN IF NOT EXISTS cooldown_seconds integer CHECK (cooldown_seconds >= 0);

-- The visitor's visits up to the call, first touch … last touch (attribution/visit.ts objects).
ALTER TABLE calls ADD COLUMN IF NOT EXISTS visit_chain jsonb;

-- A call resolves to the visitor's latest page view on the site before the call.
CREATE INDEX IF NOT EXISTS dni_sessions_site_visitor ON dni_sessions (site_id, visitor_id, created_at DESC);
-- Delays are measured by joining calls with the lease of their session.
CREATE INDEX IF NOT EXISTS calls_pool_started ON calls (pool_id, started_at) WHERE session_id IS NOT NULL;
