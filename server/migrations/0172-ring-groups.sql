-- Ring groups: a named set of members (extensions, numbers, SIP URIs) a dialplan rings as `group:<name>`.
CREATE TABLE IF NOT EXISTS ring_groups (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL,
  strategy text NOT NULL CHECK (strategy IN ('simultaneous', 'sequential', 'round-robin', 'longest-idle')),
  ring_seconds integer NOT NULL CHECK (ring_seconds BETWEEN 1 AND 300),
  members text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS ring_groups_account_name ON ring_groups (account_id, lower(name));
