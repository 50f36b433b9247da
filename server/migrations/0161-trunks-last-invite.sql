-- "Last INVITE seen from this trunk" for the Trunks page: written by the SIP admission path at
-- most every few seconds per trunk, so a busy trunk costs one small UPDATE per interval.
ALTER TABLE trunks ADD COLUMN IF NOT EXISTS last_invite_at timestamptz;
