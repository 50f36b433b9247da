/**
 * Lua scripts of the lease hot path. All keys of one pool share the hash tag `{poolId}` so a
 * script touches one Redis Cluster slot. Times come from Redis TIME: every node and the
 * Postgres history then agree on one clock, so history rows of one number never overlap.
 *
 * Keys (per pool):
 *   meta    HASH  hold, max (seconds), policy, exhausted (counter)
 *   free    ZSET  numberId -> ms the number became idle (lowest = idle longest = handed out next)
 *   leased  ZSET  numberId -> ms its exclusive lease expires
 *   owner   HASH  numberId -> sessionId of the exclusive lease
 *   bysess  HASH  sessionId -> "numberId|startMs|expMs|firstMs|shared"
 *   sessgc  ZSET  sessionId -> ms after which its bysess entry is useless (first + max + hold)
 *   nums    HASH  numberId -> E.164
 */

/** Shared by both scripts: reap expired leases and forget stale sessions (bounded work per call). */
const REAP = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 64)
for i = 1, #expired, 2 do
  redis.call('ZREM', KEYS[3], expired[i])
  redis.call('HDEL', KEYS[4], expired[i])
  -- Idle since the lease ended, not since now: LRU order is by real idle time.
  redis.call('ZADD', KEYS[2], expired[i + 1], expired[i])
end
local stale = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, 64)
for i = 1, #stale do
  redis.call('ZREM', KEYS[6], stale[i])
  redis.call('HDEL', KEYS[5], stale[i])
end
`;

/**
 * touch(KEYS: meta, free, leased, owner, bysess, sessgc, nums; ARGV: sessionId, mode)
 * mode "acquire": renew the session's live lease or lease the number idle the longest.
 * mode "keepalive": same, but an unknown session is reported instead of leased.
 * Returns {status, numberId, number, startMs, expMs, shared, prevExpMs}; status is
 * new | renewed | shared | exhausted | max | unknown | rebuild.
 */
export const TOUCH_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'rebuild'} end
${REAP}
local sid = ARGV[1]
local meta = redis.call('HMGET', KEYS[1], 'hold', 'max', 'policy')
local hold = tonumber(meta[1]) * 1000
local maxl = tonumber(meta[2]) * 1000
local policy = meta[3]
local first = now
local cur = redis.call('HGET', KEYS[5], sid)
if cur then
  local id, start, exp, f, shared = string.match(cur, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
  start = tonumber(start); exp = tonumber(exp); first = tonumber(f)
  if exp > now then
    -- Activity renews: hold after the last keep-alive, never past the hard maximum.
    local newExp = math.min(now + hold, start + maxl)
    if newExp < exp then newExp = exp end
    if newExp > exp then
      if shared == '0' then redis.call('ZADD', KEYS[3], 'XX', newExp, id) end
      redis.call('HSET', KEYS[5], sid, id .. '|' .. start .. '|' .. newExp .. '|' .. first .. '|' .. shared)
    end
    return {'renewed', id, redis.call('HGET', KEYS[7], id), start, newExp, shared, exp}
  end
elseif ARGV[2] == 'keepalive' then
  return {'unknown'}
end
if now >= first + maxl then return {'max', '', '', first, first + maxl, '0', 0} end
local exp = math.min(now + math.max(hold, 1000), first + maxl)
local gcAt = first + maxl + hold + 60000
local pick = redis.call('ZRANGE', KEYS[2], 0, 0)
if pick[1] then
  local id = pick[1]
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[3], exp, id)
  redis.call('HSET', KEYS[4], id, sid)
  redis.call('HSET', KEYS[5], sid, id .. '|' .. now .. '|' .. exp .. '|' .. first .. '|0')
  redis.call('ZADD', KEYS[6], gcAt, sid)
  return {'new', id, redis.call('HGET', KEYS[7], id), now, exp, '0', 0}
end
redis.call('HINCRBY', KEYS[1], 'exhausted', 1)
if policy == 'share' then
  -- The number whose holder was active least recently is the least likely to get a call now.
  local lru = redis.call('ZRANGE', KEYS[3], 0, 0)
  if lru[1] then
    local id = lru[1]
    redis.call('HSET', KEYS[5], sid, id .. '|' .. now .. '|' .. exp .. '|' .. first .. '|1')
    redis.call('ZADD', KEYS[6], gcAt, sid)
    return {'shared', id, redis.call('HGET', KEYS[7], id), now, exp, '1', 0}
  end
end
return {'exhausted', '', '', now, now, '0', 0}
`;

/**
 * rebuild(KEYS: meta, free, leased, owner, bysess, sessgc, nums; ARGV: hold, max, policy, json)
 * json = { numbers: [[id, e164, idleSinceMs]], leases: [[numberId, sessionId, startMs, expMs, shared(0|1)]] }
 * Does nothing when the pool is already in Redis (another node rebuilt it first).
 */
export const REBUILD_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, 7 do redis.call('DEL', KEYS[i]) end
local data = cjson.decode(ARGV[4])
local held = {}
for _, l in ipairs(data.leases) do
  local maxl = tonumber(ARGV[2]) * 1000
  redis.call('HSET', KEYS[5], l[2], l[1] .. '|' .. l[3] .. '|' .. l[4] .. '|' .. l[3] .. '|' .. l[5])
  redis.call('ZADD', KEYS[6], l[3] + maxl + tonumber(ARGV[1]) * 1000 + 60000, l[2])
  if l[5] == 0 then
    redis.call('ZADD', KEYS[3], l[4], l[1])
    redis.call('HSET', KEYS[4], l[1], l[2])
    held[l[1]] = true
  end
end
for _, n in ipairs(data.numbers) do
  redis.call('HSET', KEYS[7], n[1], n[2])
  if not held[n[1]] then redis.call('ZADD', KEYS[2], n[3], n[1]) end
end
redis.call('HSET', KEYS[1], 'hold', ARGV[1], 'max', ARGV[2], 'policy', ARGV[3], 'exhausted', 0)
return 1
`;
