-- LTV sums every won deal of the customers won in the period; a customer is their phone, else their
-- visitor id, else the deal itself. Looked up by that key, not by scanning every won deal.
CREATE INDEX IF NOT EXISTS deals_customer_won ON deals (account_id, (COALESCE(phone, visitor_id, id::text)))
  WHERE won_at IS NOT NULL AND revenue_minor IS NOT NULL;
