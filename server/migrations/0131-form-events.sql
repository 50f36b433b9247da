-- Web-form leads go through the same outbox as calls: lead_events takes type 'form.submitted'
-- (call_id then holds the form lead's id, which orders that lead's events as it does a call's).
-- The type check is extended, not rewritten, so event types other migrations add stay allowed;
-- re-runnable: nothing happens once form.submitted is in it.
DO $$
DECLARE
  def text;
BEGIN
  SELECT pg_get_constraintdef(c.oid) INTO def FROM pg_constraint c
   WHERE c.conrelid = 'lead_events'::regclass AND c.conname = 'lead_events_type_check';
  IF def IS NOT NULL AND position('form.submitted' IN def) = 0 THEN
    ALTER TABLE lead_events DROP CONSTRAINT lead_events_type_check;
    EXECUTE format('ALTER TABLE lead_events ADD CONSTRAINT lead_events_type_check %s', replace(def, 'ARRAY[', 'ARRAY[''form.submitted''::text, '));
  END IF;
END $$;

-- Raw form fields as posted (a phone we could not read as E.164 is kept here, not lost).
ALTER TABLE form_leads ADD COLUMN IF NOT EXISTS fields jsonb NOT NULL DEFAULT '{}';
