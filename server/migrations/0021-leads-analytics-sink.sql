-- The internal analytics store is on by default: the default account gets its sink, so
-- call_facts fills from the first call without any set-up. Admins may disable or delete it.
INSERT INTO lead_sinks (account_id, kind, name, config, events)
SELECT id, 'analytics', 'analytics store', '{}', '{call.completed,call.modified}'
  FROM accounts WHERE id = '00000000-0000-0000-0000-000000000001'
   AND NOT EXISTS (SELECT 1 FROM lead_sinks s WHERE s.account_id = accounts.id AND s.kind = 'analytics');
