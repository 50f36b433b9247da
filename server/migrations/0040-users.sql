-- Browser users (people, not API clients), their cookie sessions, and who listened to which recording.
CREATE TABLE IF NOT EXISTS users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'manager', 'marketer', 'viewer')),
  -- bcrypt hash (bcryptjs); the password itself is never stored.
  password_hash text NOT NULL,
  disabled_at timestamptz,
  last_sign_in_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- One login per e-mail across accounts: sign-in asks only for the e-mail.
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (lower(email));

CREATE TABLE IF NOT EXISTS user_sessions (
  -- sha256 of the cookie value; a database leak does not hand out live sessions.
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  user_agent text
);
CREATE INDEX IF NOT EXISTS user_sessions_user ON user_sessions (user_id);
CREATE INDEX IF NOT EXISTS user_sessions_expires ON user_sessions (expires_at);

-- Listening to a recording is logged (call-center quality and privacy audits).
CREATE TABLE IF NOT EXISTS call_listens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
  user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  api_key_id uuid REFERENCES api_keys(id) ON DELETE SET NULL,
  listener text NOT NULL,
  listened_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS call_listens_call ON call_listens (call_id, listened_at DESC);
