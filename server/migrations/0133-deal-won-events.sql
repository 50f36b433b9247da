-- Won deals go back to the ad platforms through the lead outbox: event type 'deal.won' (call_id
-- then holds the deal id) and the sink kinds google_ads (Data Manager events:ingest) and
-- metrica_offline. Both checks are extended, not rewritten, so values other migrations add stay
-- allowed; re-runnable.
DO $$
DECLARE
  def text;
BEGIN
  SELECT pg_get_constraintdef(c.oid) INTO def FROM pg_constraint c
   WHERE c.conrelid = 'lead_events'::regclass AND c.conname = 'lead_events_type_check';
  IF def IS NOT NULL AND position('deal.won' IN def) = 0 THEN
    ALTER TABLE lead_events DROP CONSTRAINT lead_events_type_check;
    EXECUTE format('ALTER TABLE lead_events ADD CONSTRAINT lead_events_type_check %s', replace(def, 'ARRAY[', 'ARRAY[''deal.won''::text, '));
  END IF;
  SELECT pg_get_constraintdef(c.oid) INTO def FROM pg_constraint c
   WHERE c.conrelid = 'lead_sinks'::regclass AND c.conname = 'lead_sinks_kind_check';
  IF def IS NOT NULL AND position('metrica_offline' IN def) = 0 THEN
    ALTER TABLE lead_sinks DROP CONSTRAINT lead_sinks_kind_check;
    EXECUTE format('ALTER TABLE lead_sinks ADD CONSTRAINT lead_sinks_kind_check %s',
      replace(def, 'ARRAY[', 'ARRAY[''google_ads''::text, ''metrica_offline''::text, '));
  END IF;
END $$;
