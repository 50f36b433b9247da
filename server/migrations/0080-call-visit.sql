-- The website visit behind a call gets its own column, in one spelling (attribution/visit.ts):
-- calls.attribution keeps only how the call was attributed (reason, candidates, overflow,
-- previous call). Older rows carried visit keys inside attribution, some snake_case (utm_*),
-- some camelCase; they are moved over once. Re-runnable: the move only touches rows whose
-- visit is still NULL and whose attribution still has visit keys.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS visit jsonb;

UPDATE calls SET
  visit = CASE WHEN source_id IS NOT NULL THEN NULL ELSE NULLIF(jsonb_strip_nulls(jsonb_build_object(
    'source', NULLIF(attribution->>'source', ''),
    'medium', NULLIF(attribution->>'medium', ''),
    'campaign', NULLIF(attribution->>'campaign', ''),
    'keyword', NULLIF(attribution->>'keyword', ''),
    'utmSource', NULLIF(COALESCE(attribution->>'utmSource', attribution->>'utm_source'), ''),
    'utmMedium', NULLIF(COALESCE(attribution->>'utmMedium', attribution->>'utm_medium'), ''),
    'utmCampaign', NULLIF(COALESCE(attribution->>'utmCampaign', attribution->>'utm_campaign'), ''),
    'utmTerm', NULLIF(COALESCE(attribution->>'utmTerm', attribution->>'utm_term'), ''),
    'utmContent', NULLIF(COALESCE(attribution->>'utmContent', attribution->>'utm_content'), ''),
    'landingPage', NULLIF(COALESCE(attribution->>'landingPage', attribution->>'landing_page'), ''),
    'referrer', NULLIF(attribution->>'referrer', ''),
    'gclid', NULLIF(attribution->>'gclid', ''),
    'gbraid', NULLIF(attribution->>'gbraid', ''),
    'wbraid', NULLIF(attribution->>'wbraid', ''),
    'yclid', NULLIF(attribution->>'yclid', ''),
    'fbclid', NULLIF(attribution->>'fbclid', ''),
    'msclkid', NULLIF(attribution->>'msclkid', ''),
    'gaClientId', NULLIF(COALESCE(attribution->>'gaClientId', attribution->>'ga_client_id'), ''),
    'ymClientId', NULLIF(COALESCE(attribution->>'ymClientId', attribution->>'ym_client_id'), ''),
    'visitorId', NULLIF(attribution->>'visitorId', '')
  )), '{}'::jsonb) END,
  attribution = jsonb_strip_nulls(jsonb_build_object(
    'reason', attribution->'reason',
    'candidates', attribution->'candidates',
    'overflow', to_jsonb(COALESCE(attribution->>'overflow', attribution->>'shared', 'false') = 'true'),
    'previousCallId', attribution->'previousCallId'
  ))
WHERE visit IS NULL
  AND attribution ?| ARRAY['source', 'medium', 'campaign', 'keyword', 'utm_source', 'utmSource', 'landingPage', 'landing_page',
    'referrer', 'gclid', 'yclid', 'gaClientId', 'ymClientId', 'visitorId', 'sourceName', 'shared'];

-- The call log's source/campaign filters look into the visit now (see calls/call-view.ts).
DROP INDEX IF EXISTS calls_attribution;
CREATE INDEX IF NOT EXISTS calls_visit ON calls USING gin (visit jsonb_path_ops);
