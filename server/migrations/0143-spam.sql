-- Spam and robocalls: per-account block lists, the screening policy, and the verdict on each call
-- (spam calls are tagged, and kept out of leads and reports). Re-runnable.
CREATE TABLE IF NOT EXISTS caller_blocks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  -- An E.164 number, or a prefix ending in '*' (+7800*); 'anonymous' blocks callers without a number.
  pattern text NOT NULL CHECK (pattern ~ '^(\+[0-9]{1,15}\*?|anonymous)$'),
  action text NOT NULL DEFAULT 'reject' CHECK (action IN ('reject', 'goodbye')),
  note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, pattern)
);

CREATE TABLE IF NOT EXISTS spam_policies (
  account_id uuid PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  -- Flagged callers must press 1 before an agent's phone rings.
  gate boolean NOT NULL DEFAULT false,
  -- Flag a caller with this many calls in 10 minutes (0: off).
  burst_calls integer NOT NULL DEFAULT 5 CHECK (burst_calls >= 0),
  -- Flag a caller whose last calls in a row all lasted under 5 s (0: off).
  short_call_streak integer NOT NULL DEFAULT 3 CHECK (short_call_streak >= 0),
  -- Flag anonymous callers and caller ids that are no phone number.
  flag_anonymous boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE calls ADD COLUMN IF NOT EXISTS spam boolean NOT NULL DEFAULT false;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS spam_reason text;

-- Spam calls get the tag "spam" from the system itself, not from a person or a rule.
ALTER TABLE call_tags DROP CONSTRAINT IF EXISTS call_tags_origin_check;
ALTER TABLE call_tags ADD CONSTRAINT call_tags_origin_check CHECK (origin IN ('manual', 'rule', 'system'));
