-- Lifetime revenue per customer (phone, else visitor id, else the deal itself) and currency, kept by
-- triggers on deals, so LTV in the ROI report adds up a row per customer instead of walking every
-- won deal of the period's customers. `last_won_at` is the latest won deal ever counted (it only
-- grows): a report whose period ends before it walks that customer's deals instead.
-- Re-runnable.
CREATE TABLE IF NOT EXISTS customer_revenue (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  customer text NOT NULL,
  currency text NOT NULL,
  minor_digits smallint NOT NULL,
  revenue_minor bigint NOT NULL,
  deals integer NOT NULL,
  last_won_at timestamptz NOT NULL,
  PRIMARY KEY (account_id, customer, currency, minor_digits)
);

CREATE OR REPLACE FUNCTION ct_customer_revenue_change(d deals, sign integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF d.won_at IS NULL OR d.revenue_minor IS NULL OR d.currency IS NULL OR d.minor_digits IS NULL THEN
    RETURN;
  END IF;
  IF sign < 0 THEN
    -- Only ever taken from a row that exists (an account being deleted may have taken it already).
    UPDATE customer_revenue SET revenue_minor = revenue_minor - d.revenue_minor, deals = deals - 1
    WHERE account_id = d.account_id AND customer = COALESCE(d.phone, d.visitor_id, d.id::text)
      AND currency = d.currency AND minor_digits = d.minor_digits;
    RETURN;
  END IF;
  INSERT INTO customer_revenue AS cr (account_id, customer, currency, minor_digits, revenue_minor, deals, last_won_at)
  VALUES (d.account_id, COALESCE(d.phone, d.visitor_id, d.id::text), d.currency, d.minor_digits, d.revenue_minor, 1, d.won_at)
  ON CONFLICT (account_id, customer, currency, minor_digits) DO UPDATE
    SET revenue_minor = cr.revenue_minor + EXCLUDED.revenue_minor, deals = cr.deals + 1,
        last_won_at = GREATEST(cr.last_won_at, EXCLUDED.last_won_at);
END $$;

CREATE OR REPLACE FUNCTION ct_deals_customer_revenue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM ct_customer_revenue_change(OLD, -1); END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM ct_customer_revenue_change(NEW, 1); END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS deals_customer_revenue_insert ON deals;
CREATE TRIGGER deals_customer_revenue_insert AFTER INSERT ON deals FOR EACH ROW EXECUTE FUNCTION ct_deals_customer_revenue();
DROP TRIGGER IF EXISTS deals_customer_revenue_delete ON deals;
CREATE TRIGGER deals_customer_revenue_delete AFTER DELETE ON deals FOR EACH ROW EXECUTE FUNCTION ct_deals_customer_revenue();
DROP TRIGGER IF EXISTS deals_customer_revenue_update ON deals;
CREATE TRIGGER deals_customer_revenue_update AFTER UPDATE ON deals FOR EACH ROW
  WHEN (OLD.won_at IS DISTINCT FROM NEW.won_at OR OLD.revenue_minor IS DISTINCT FROM NEW.revenue_minor
    OR OLD.currency IS DISTINCT FROM NEW.currency OR OLD.minor_digits IS DISTINCT FROM NEW.minor_digits
    OR OLD.phone IS DISTINCT FROM NEW.phone OR OLD.visitor_id IS DISTINCT FROM NEW.visitor_id OR OLD.account_id IS DISTINCT FROM NEW.account_id)
  EXECUTE FUNCTION ct_deals_customer_revenue();

-- Deals stored before this migration (a second run finds the table already filled).
INSERT INTO customer_revenue (account_id, customer, currency, minor_digits, revenue_minor, deals, last_won_at)
SELECT account_id, COALESCE(phone, visitor_id, id::text), currency, minor_digits, sum(revenue_minor), count(*), max(won_at)
FROM deals
WHERE won_at IS NOT NULL AND revenue_minor IS NOT NULL AND currency IS NOT NULL AND minor_digits IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM customer_revenue)
GROUP BY 1, 2, 3, 4;
