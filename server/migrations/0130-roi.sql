-- End-to-end ROI (issue 13): ad costs, currency rates, CRM deals, web-form leads and the inbound
-- CRM webhook settings. Re-runnable: every statement checks first (IF NOT EXISTS, OR REPLACE).

-- Reports convert every amount into the account's currency.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT 'RUB';

-- Ad spend per day and campaign (CSV upload or a connector). Money in integer minor units of its
-- own currency (minor_digits: 2 for RUB/USD, 0 for JPY) so sums never drift. keyword '' = the
-- whole campaign (a unique key cannot hold NULL as a value).
CREATE TABLE IF NOT EXISTS ad_costs (
  id bigserial PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  day date NOT NULL,
  source text NOT NULL,
  medium text NOT NULL,
  campaign text NOT NULL,
  keyword text NOT NULL DEFAULT '',
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  minor_digits smallint NOT NULL CHECK (minor_digits BETWEEN 0 AND 4),
  cost_minor bigint NOT NULL CHECK (cost_minor >= 0),
  clicks bigint,
  impressions bigint,
  origin text NOT NULL DEFAULT 'csv',
  cost_source_id uuid,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, day, source, medium, campaign, keyword)
);
CREATE INDEX IF NOT EXISTS ad_costs_account_day ON ad_costs (account_id, day);

-- 1 base = rate quote on that day; reports use the latest rate on or before the day of the amount.
CREATE TABLE IF NOT EXISTS currency_rates (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  day date NOT NULL,
  base text NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
  quote text NOT NULL CHECK (quote ~ '^[A-Z]{3}$' AND quote <> base),
  rate numeric(24, 10) NOT NULL CHECK (rate > 0),
  PRIMARY KEY (account_id, base, quote, day)
);

-- A CRM deal (or a generic conversion) and where it came from. (origin, external_id) — the CRM's
-- deal id or the API caller's own id — is the idempotency key.
CREATE TABLE IF NOT EXISTS deals (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  external_id text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('api', 'amocrm', 'bitrix24')),
  stage text NOT NULL CHECK (stage IN ('lead', 'qualified', 'won', 'lost')),
  revenue_minor bigint CHECK (revenue_minor >= 0),
  currency text CHECK (currency ~ '^[A-Z]{3}$'),
  minor_digits smallint,
  at timestamptz NOT NULL,
  qualified_at timestamptz,
  won_at timestamptz,
  lost_at timestamptz,
  -- What the deal is linked to: a call, else a visitor (their visits are its touches); phone = the customer for LTV.
  call_id uuid REFERENCES calls(id) ON DELETE SET NULL,
  form_lead_id uuid,
  visitor_id text,
  phone text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, origin, external_id)
);
CREATE INDEX IF NOT EXISTS deals_account_won ON deals (account_id, won_at) WHERE won_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS deals_account_qualified ON deals (account_id, qualified_at) WHERE qualified_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS deals_phone ON deals (account_id, phone) WHERE phone IS NOT NULL;

-- Web-form requests ("заявки") with the visit of the visitor's session.
CREATE TABLE IF NOT EXISTS form_leads (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  site_id uuid NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  session_id uuid,
  visitor_id text,
  name text,
  phone text,
  email text,
  url text NOT NULL,
  visit jsonb,
  -- No earlier call or form from this phone (a form and a call within a day are one lead).
  first_time boolean NOT NULL DEFAULT true,
  linked_call_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS form_leads_account_created ON form_leads (account_id, created_at);
CREATE INDEX IF NOT EXISTS form_leads_phone ON form_leads (account_id, phone, created_at) WHERE phone IS NOT NULL;

-- Inbound CRM webhooks: amoCRM posts to /v1/crm/amocrm/{token} (our secret in the URL); Bitrix24
-- signs with its application_token (theirs, pasted here).
CREATE TABLE IF NOT EXISTS crm_inbound (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('amocrm', 'bitrix24')),
  token text NOT NULL,
  config jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, kind)
);
CREATE UNIQUE INDEX IF NOT EXISTS crm_inbound_token ON crm_inbound (kind, token);

-- Calls by visitor (a conversion by visitorId; calls_caller already serves phone → latest call).
CREATE INDEX IF NOT EXISTS calls_visitor ON calls ((visit->>'visitorId'), started_at DESC) WHERE visit ? 'visitorId';

-- GA-style channel of a visitor session in SQL (the rule of attribution/visit.ts sourceMedium):
-- UTM tags, then click ids, then the referrer (search engine = organic, other host = referral), else direct.
CREATE OR REPLACE FUNCTION ct_session_channel(utm_source text, utm_medium text, gclid text, gbraid text, wbraid text, yclid text,
    msclkid text, fbclid text, referrer text, landing_page text, OUT source text, OUT medium text)
  LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  ref_host text := lower(substring(referrer FROM '^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?([^:/?#]+)'));
  land_host text := lower(substring(landing_page FROM '^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?([^:/?#]+)'));
BEGIN
  IF utm_source IS NOT NULL THEN source := utm_source; medium := COALESCE(utm_medium, '(not set)'); RETURN; END IF;
  IF gclid IS NOT NULL OR gbraid IS NOT NULL OR wbraid IS NOT NULL THEN source := 'google'; medium := 'cpc'; RETURN; END IF;
  IF yclid IS NOT NULL THEN source := 'yandex'; medium := 'cpc'; RETURN; END IF;
  IF msclkid IS NOT NULL THEN source := 'bing'; medium := 'cpc'; RETURN; END IF;
  IF fbclid IS NOT NULL THEN source := 'facebook'; medium := 'social'; RETURN; END IF;
  IF ref_host IS NOT NULL AND ref_host IS DISTINCT FROM land_host THEN
    medium := 'organic';
    source := CASE
      WHEN ref_host ~ '(^|\.)google\.' THEN 'google'
      WHEN ref_host ~ '(^|\.)yandex\.|(^|\.)ya\.ru$' THEN 'yandex'
      WHEN ref_host ~ '(^|\.)bing\.com$' THEN 'bing'
      WHEN ref_host ~ '(^|\.)duckduckgo\.com$' THEN 'duckduckgo'
      WHEN ref_host ~ '(^|\.)yahoo\.' THEN 'yahoo'
      WHEN ref_host ~ '(^|\.)mail\.ru$' THEN 'mail.ru'
    END;
    IF source IS NULL THEN source := ref_host; medium := 'referral'; END IF;
    RETURN;
  END IF;
  source := '(direct)'; medium := '(none)';
END $$;

-- How many `quote` one `base` is worth on a day: the latest rate on or before it, else the inverse
-- of the opposite pair; NULL when neither is known (reports then name the missing rate).
CREATE OR REPLACE FUNCTION ct_fx_rate(p_account uuid, p_from text, p_to text, p_day date) RETURNS numeric
  LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_from = p_to THEN 1::numeric ELSE COALESCE(
    (SELECT rate FROM currency_rates WHERE account_id = p_account AND base = p_from AND quote = p_to AND day <= p_day ORDER BY day DESC LIMIT 1),
    (SELECT 1 / rate FROM currency_rates WHERE account_id = p_account AND base = p_to AND quote = p_from AND day <= p_day ORDER BY day DESC LIMIT 1)) END
$$;
