-- Whether a call is a new lead: the caller's first call, with no web form from the same phone before
-- it. The ROI report counted this per report, one form_leads probe per first-time call (50k per
-- 90-day report on a busy account); now it is kept on the call and read from the covering index.
-- Kept by triggers: when a call is written, and when a form arrives, changes phone or is deleted.
-- Re-runnable.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS first_lead boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION ct_call_first_lead() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.first_lead := COALESCE(NEW.first_time, false) AND NOT EXISTS (
    SELECT 1 FROM form_leads f WHERE f.account_id = NEW.account_id AND f.phone = NEW.caller AND f.created_at < NEW.started_at);
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS calls_first_lead ON calls;
CREATE TRIGGER calls_first_lead BEFORE INSERT OR UPDATE OF first_time, caller, started_at, account_id ON calls
  FOR EACH ROW EXECUTE FUNCTION ct_call_first_lead();

-- A form counts against the first-time calls of its phone made after it: recompute those.
CREATE OR REPLACE FUNCTION ct_form_first_leads() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed form_leads;
BEGIN
  FOREACH changed IN ARRAY (CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW] WHEN 'DELETE' THEN ARRAY[OLD] ELSE ARRAY[OLD, NEW] END) LOOP
    IF changed.phone IS NOT NULL THEN
      UPDATE calls c SET first_lead = NOT EXISTS (
          SELECT 1 FROM form_leads f WHERE f.account_id = c.account_id AND f.phone = c.caller AND f.created_at < c.started_at)
      WHERE c.caller = changed.phone AND c.account_id = changed.account_id AND c.started_at > changed.created_at AND c.first_time IS TRUE;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS form_leads_first_leads ON form_leads;
CREATE TRIGGER form_leads_first_leads AFTER INSERT OR DELETE OR UPDATE OF phone, created_at, account_id ON form_leads
  FOR EACH ROW EXECUTE FUNCTION ct_form_first_leads();

UPDATE calls c SET first_lead = NOT EXISTS (
    SELECT 1 FROM form_leads f WHERE f.account_id = c.account_id AND f.phone = c.caller AND f.created_at < c.started_at)
WHERE c.first_time IS TRUE AND NOT c.first_lead;

-- The report's covering index carries the flag instead of what it was computed from.
DROP INDEX IF EXISTS calls_roi_touch;
CREATE INDEX calls_roi_touch ON calls (account_id, started_at)
  INCLUDE (touch_single, source_id, touch_source, touch_medium, touch_campaign, touch_keyword, first_lead)
  WHERE direction = 'inbound' AND NOT spam;
