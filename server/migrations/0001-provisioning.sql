-- Accounts, API keys, trunks, numbers, sites, pools, static sources and the lease history.
-- Extensions btree_gist and pgcrypto are created database-wide by infra (see infra/services.mjs).
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE IF NOT EXISTS accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- The account the bootstrap ADMIN_API_KEY belongs to.
INSERT INTO accounts (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'default') ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'manager', 'marketer', 'viewer')),
  -- sha256 of the key; the key itself is shown once at creation and never stored.
  key_hash text NOT NULL UNIQUE,
  key_prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE IF NOT EXISTS trunks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL,
  addresses cidr[] NOT NULL DEFAULT '{}',
  username text,
  -- Digest HA1 = md5(username:realm:password); enough to verify, useless to replay elsewhere.
  password_ha1 text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, name),
  CHECK (cardinality(addresses) > 0 OR username IS NOT NULL)
);
CREATE UNIQUE INDEX IF NOT EXISTS trunks_username ON trunks (username) WHERE username IS NOT NULL;

CREATE TABLE IF NOT EXISTS sites (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL,
  domains text[] NOT NULL,
  default_number text NOT NULL,
  site_key text NOT NULL UNIQUE,
  dialplan text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS pools (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  site_id uuid NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  name text NOT NULL,
  hold_seconds integer NOT NULL CHECK (hold_seconds BETWEEN 0 AND 86400),
  max_lease_seconds integer NOT NULL DEFAULT 14400 CHECK (max_lease_seconds > 0),
  exhaustion_policy text NOT NULL DEFAULT 'default_number' CHECK (exhaustion_policy IN ('default_number', 'share')),
  dialplan text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (site_id, name)
);

CREATE TABLE IF NOT EXISTS sources (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('offline', 'online')),
  channel text NOT NULL,
  medium text,
  campaign text,
  cost numeric(14, 2) CHECK (cost >= 0),
  currency text NOT NULL DEFAULT 'RUB',
  starts_on date,
  ends_on date,
  dialplan text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);

CREATE TABLE IF NOT EXISTS numbers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  number text NOT NULL UNIQUE CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
  trunk_id uuid NOT NULL REFERENCES trunks(id) ON DELETE RESTRICT,
  pool_id uuid REFERENCES pools(id) ON DELETE SET NULL,
  source_id uuid REFERENCES sources(id) ON DELETE SET NULL,
  dialplan text,
  -- A number released from a static source waits here before any pool may take it.
  quarantine_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (pool_id IS NULL OR source_id IS NULL)
);
CREATE INDEX IF NOT EXISTS numbers_pool ON numbers (pool_id) WHERE pool_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS numbers_source ON numbers (source_id) WHERE source_id IS NOT NULL;

-- Lease history: who held a pool number when. Redis hands leases out; this is the record
-- attribution reads for late calls. Two exclusive leases of one number can never overlap;
-- a lease handed out while the pool was exhausted is marked shared and is exempt.
CREATE TABLE IF NOT EXISTS number_leases (
  id bigserial PRIMARY KEY,
  number_id uuid NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
  pool_id uuid NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
  session_id uuid NOT NULL,
  during tstzrange NOT NULL CHECK (NOT isempty(during)),
  shared boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  EXCLUDE USING gist (number_id WITH =, during WITH &&) WHERE (NOT shared)
);
CREATE INDEX IF NOT EXISTS number_leases_session ON number_leases (session_id);
CREATE INDEX IF NOT EXISTS number_leases_number_during ON number_leases USING gist (number_id, during);
