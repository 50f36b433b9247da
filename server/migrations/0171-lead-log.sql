-- The lead log shows, beside a call, the form request from the same phone linked to it.
CREATE INDEX IF NOT EXISTS form_leads_linked_call ON form_leads (linked_call_id) WHERE linked_call_id IS NOT NULL;
