-- Call flows managed in the app: every save is a new version; the newest is the one calls use.
-- A rollback saves an old version again as the newest, so the history never loses a step.
CREATE TABLE IF NOT EXISTS dialplan_versions (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  plan jsonb NOT NULL,
  saved_by text,
  note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, name, version)
);
