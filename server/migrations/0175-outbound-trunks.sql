-- The outbound side of a trunk: where tel: targets go (gateway, transport, the credentials the
-- carrier challenges for, tech prefix, caller-ID policy). The carrier's password is kept as given:
-- answering its digest challenge needs it (it is never returned by the API).
ALTER TABLE trunks ADD COLUMN IF NOT EXISTS outbound jsonb;

-- A trunk may be outbound only (no inbound addresses or credentials): the old check is widened.
DO $$
DECLARE
  def text;
BEGIN
  SELECT pg_get_constraintdef(c.oid) INTO def FROM pg_constraint c WHERE c.conrelid = 'trunks'::regclass AND c.conname = 'trunks_check';
  IF def IS NOT NULL AND position('outbound' IN def) = 0 THEN
    ALTER TABLE trunks DROP CONSTRAINT trunks_check;
    ALTER TABLE trunks ADD CONSTRAINT trunks_check CHECK (cardinality(addresses) > 0 OR username IS NOT NULL OR outbound IS NOT NULL);
  END IF;
END $$;
