-- The SIP edge's trunk ACL (infra/kamailio): Kamailio's permissions module loads this view as its
-- "address table" and reloads it every few seconds, so a trunk added or changed through the API
-- reaches the edge without a restart, wherever the edge runs. The edge only refuses what every node
-- would refuse; the nodes still check each INVITE (routing-cache.ts, invite-admission.ts).
--   group 1: every trunk's address ranges, matched like the nodes match them;
--   group 2: one marker row while some trunk authenticates by digest: nodes then challenge an INVITE
--            from any address, so the edge must let unauthenticated INVITEs through.
-- Kamailio reads mask 0 as a single host (/32, /128), so a trunk open to everything becomes the two
-- halves of its address family. It wants varchar, not text, columns.
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
)
SELECT 1 AS grp, host(range)::varchar(50) AS ip_addr, masklen(range) AS mask, 0 AS port, id::varchar(64) AS tag
FROM ranges
UNION ALL
SELECT 2, '0.0.0.0'::varchar(50), 32, 0, 'digest'::varchar(64)
WHERE EXISTS (SELECT 1 FROM trunks WHERE password_ha1 IS NOT NULL);

-- Kamailio checks each table's layout version in a relation named "version" before loading it
-- (version 6 is the permissions address table of Kamailio 5.x).
CREATE OR REPLACE VIEW version (table_name, table_version) AS
VALUES ('edge_trunk_addresses'::varchar(64), 6);
