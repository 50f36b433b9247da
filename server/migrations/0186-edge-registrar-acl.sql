-- A carrier we REGISTER with sends the calls for our contact from its gateway: the nodes count the
-- gateway's addresses as the trunk's own (routing-cache.ts), so the edge lets them through too.
-- Only a gateway given as an IPv4 address can be listed here (Kamailio matches addresses, and a
-- host name is looked up by the nodes alone); one behind a host name needs its addresses on the trunk.
CREATE OR REPLACE VIEW edge_trunk_addresses AS
WITH ranges AS (
  SELECT trunks.id, range
  FROM trunks, unnest(trunks.addresses) AS range
  WHERE masklen(range) > 0
  UNION ALL
  SELECT trunks.id, half
  FROM trunks,
    unnest(trunks.addresses) AS range,
    unnest(CASE family(range) WHEN 4 THEN ARRAY['0.0.0.0/1', '128.0.0.0/1']::cidr[] ELSE ARRAY['::/1', '8000::/1']::cidr[] END) AS half
  WHERE masklen(range) = 0
  UNION ALL
  SELECT trunks.id, (outbound->>'host')::cidr
  FROM trunks
  WHERE (outbound->>'register')::boolean IS TRUE
    AND outbound->>'host' ~ '^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$'
)
SELECT 1 AS grp, host(range)::varchar(50) AS ip_addr, masklen(range) AS mask, 0 AS port, id::varchar(64) AS tag
FROM ranges
UNION ALL
SELECT 2, '0.0.0.0'::varchar(50), 32, 0, 'digest'::varchar(64)
WHERE EXISTS (SELECT 1 FROM trunks WHERE password_ha1 IS NOT NULL);
