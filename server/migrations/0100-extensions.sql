-- Extensions (employees' phones): a short number in the account, a name, an optional user, and SIP
-- digest credentials (only the HA1 is stored). Registrations (where the phones are) live in Redis.
CREATE TABLE IF NOT EXISTS extensions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  extension text NOT NULL CHECK (extension ~ '^[0-9]{2,8}$'),
  name text NOT NULL,
  user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  sip_username text NOT NULL UNIQUE,
  password_ha1 text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, extension)
);
