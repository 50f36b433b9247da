-- "Forgot password" without a mail server: a one-time link is printed in the server log.
-- Only the sha256 of the token is kept, so the table (or a backup of it) cannot reset anyone.
CREATE TABLE IF NOT EXISTS password_resets (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX IF NOT EXISTS password_resets_user ON password_resets (user_id);
