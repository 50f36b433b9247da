-- Tag rules: each enabled rule adds its tag to a finished call whose facts meet every condition.
-- Conditions are a small JSON object validated by the API (calls/tag-rules.schemas.ts), e.g.
-- {"talkSecondsOver": 60, "firstTime": true}; jsonb keeps new condition kinds free of migrations.
CREATE TABLE IF NOT EXISTS tag_rules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  tag text NOT NULL CHECK (length(tag) BETWEEN 1 AND 64),
  conditions jsonb NOT NULL CHECK (jsonb_typeof(conditions) = 'object'),
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- The call-record transaction reads only the enabled rules of one account.
CREATE INDEX IF NOT EXISTS tag_rules_account_enabled ON tag_rules (account_id) WHERE enabled;

-- Which rule put a tag on a call (NULL for manual tags), so a rule's effect can be audited.
ALTER TABLE call_tags ADD COLUMN IF NOT EXISTS rule_id uuid REFERENCES tag_rules(id) ON DELETE SET NULL;
