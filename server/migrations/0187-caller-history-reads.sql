-- Per-call reads of one caller's history (attribution's earlier calls, the sticky agent) must stop
-- after a handful of rows however often the caller has called: a robocaller, an office line or a
-- load test can reach thousands of calls from one number within minutes.
-- Measured in bench:sip (every call from one caller): the table's statistics lagged behind the
-- burst, the planner expected 3 rows, fetched all 3,233 of that caller's calls and sorted them:
-- 20 ms of Postgres per call, growing with every call.
-- Re-runnable.

-- The caller's calls within the account in time order: an index walk that reads only what it returns.
CREATE INDEX IF NOT EXISTS calls_account_caller ON calls (account_id, caller, started_at DESC);
DROP INDEX IF EXISTS calls_caller;

-- Only answered calls name a target: a caller nobody ever answered costs no walk through their calls.
CREATE INDEX IF NOT EXISTS calls_account_caller_answered ON calls (account_id, caller, started_at DESC) WHERE answered_target IS NOT NULL;

-- The caller's latest calls before an instant, newest first. Sorting and bitmap scans are off
-- inside so the only plan left is the ordered walk that stops at the limit, whatever the
-- statistics say about this caller. PL/pgSQL keeps the statement's plan for the session (a SQL
-- function is planned again on every call: 0.15 ms of Postgres per call in bench:sip).
CREATE OR REPLACE FUNCTION ct_caller_calls_before(p_account uuid, p_caller text, p_before timestamptz, p_limit integer)
  RETURNS TABLE (id uuid, started_at timestamptz)
  LANGUAGE plpgsql STABLE
  SET enable_sort = off
  SET enable_bitmapscan = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
    SELECT c.id, c.started_at FROM calls c
     WHERE c.account_id = p_account AND c.caller = p_caller AND c.started_at < p_before
     ORDER BY c.started_at DESC
     LIMIT p_limit;
END
$$;
