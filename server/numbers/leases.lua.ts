/**
 * Lua scripts of the lease hot path. All keys of one pool share the hash tag `{poolId}` so a
 * script touches one Redis Cluster slot. Times come from Redis TIME: every node and the
 * Postgres history then agree on one clock, so history rows of one number never overlap.
 *
 * A lease belongs to a holder: the visitor (ct_vid), so every tab and page view of one visitor
 * shares one number; a page view without a visitor id holds alone (holder = its session id).
 *
 * Keys (per pool):
 *   meta    HASH  hold, max, cool (seconds), policy, exhausted (counter)
 *   free    ZSET  numberId -> ms the number became idle (lowest = rested longest = handed out next)
 *   leased  ZSET  numberId -> ms its exclusive lease expires
 *   owner   HASH  numberId -> holder of the exclusive lease
 *   bysess  HASH  holder -> "numberId|startMs|expMs|firstMs|shared|leaseSessionId|reused|latestSessionId"
 *                 (latestSessionId: the holder's page view opened last)
 *   sessgc  ZSET  holder -> ms after which its bysess entry is useless (first + max + hold)
 *   nums    HASH  numberId -> E.164
 */

/**
 * lease(KEYS: meta, free, leased, owner, bysess, sessgc, nums, guard sets…, written keys…;
 *       ARGV: holder, mode, sessionId, guard count, guard ttl, guard caps…, per written key: value, ttl, whenLeased)
 * mode "acquire": renew the holder's live lease or lease the number rested the longest.
 * mode "keepalive": same, but an unknown holder is reported instead of leased.
 * A number idle for less than the pool's cool-down is handed out only when every free number
 * is (it is then marked reused, so a call on it is never taken for certain).
 *
 * Guard sets (ZSET holder -> ms its lease expires) cap the live leases of a group of holders
 * (one client address, one network): an acquire over a cap is refused before the pool is
 * touched; a lease, new or renewed, puts the holder into every set. Written keys are SET (with
 * EX) in the same call, every time or only when a number was given: the caller's bookkeeping
 * of the page view rides along instead of costing Redis commands of its own. Those keys are not
 * in the pool's slot: under Redis Cluster they would go in a pipeline of their own.
 *
 * Returns {status, numberId, number, startMs, expMs, shared, prevExpMs, leaseSessionId, reused};
 * status is new | renewed | shared | exhausted | max | unknown | capped | rebuild.
 */
export const LEASE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'rebuild'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local holder, mode, sid = ARGV[1], ARGV[2], ARGV[3]
local guards = tonumber(ARGV[4])
local function touch()
  -- Reap expired leases and forget stale holders (bounded work per call).
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
  local meta = redis.call('HMGET', KEYS[1], 'hold', 'max', 'policy', 'cool')
  local hold = tonumber(meta[1]) * 1000
  local maxl = tonumber(meta[2]) * 1000
  local policy = meta[3]
  local cool = math.max(tonumber(meta[4] or meta[1]) * 1000, hold)
  local first = now
  local cur = redis.call('HGET', KEYS[5], holder)
  local cid, cstart, cexp, cfirst, cshared, clsid, creused, clatest
  if cur then
    cid, cstart, cexp, cfirst, cshared, clsid, creused, clatest = string.match(cur, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
  end
  if cid then
    cstart = tonumber(cstart); cexp = tonumber(cexp); first = tonumber(cfirst)
    if cexp > now then
      -- Activity of any of the holder's page views renews: hold after the last one, never past the hard maximum.
      local newExp = math.min(now + hold, cstart + maxl)
      if newExp < cexp then newExp = cexp end
      if newExp > cexp and cshared == '0' then redis.call('ZADD', KEYS[3], 'XX', newExp, cid) end
      -- The latest page view is the one opened last (a keep-alive of an older tab does not change it).
      local latest = sid
      if mode == 'keepalive' then latest = clatest end
      redis.call('HSET', KEYS[5], holder, cid .. '|' .. cstart .. '|' .. newExp .. '|' .. first .. '|' .. cshared .. '|' .. clsid .. '|' .. creused .. '|' .. latest)
      return {'renewed', cid, redis.call('HGET', KEYS[7], cid), cstart, newExp, cshared, cexp, clsid, creused}
    end
    -- A visitor back after the hold starts afresh; a tab left open past the maximum does not.
    if now - cexp > hold then first = now end
  elseif mode == 'keepalive' then
    return {'unknown'}
  end
  if now >= first + maxl then return {'max', '', '', first, first + maxl, '0', 0, '', '0'} end
  local exp = math.min(now + math.max(hold, 1000), first + maxl)
  local gcAt = first + maxl + hold + 60000
  local pick = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if pick[1] then
    local id = pick[1]
    local rested = tonumber(pick[2])
    local reused = '0'
    if rested > 0 and now - rested < cool then reused = '1' end
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZADD', KEYS[3], exp, id)
    redis.call('HSET', KEYS[4], id, holder)
    redis.call('HSET', KEYS[5], holder, id .. '|' .. now .. '|' .. exp .. '|' .. first .. '|0|' .. sid .. '|' .. reused .. '|' .. sid)
    redis.call('ZADD', KEYS[6], gcAt, holder)
    return {'new', id, redis.call('HGET', KEYS[7], id), now, exp, '0', 0, sid, reused}
  end
  redis.call('HINCRBY', KEYS[1], 'exhausted', 1)
  if policy == 'share' then
    -- The number whose holder was active least recently is the least likely to get a call now.
    local lru = redis.call('ZRANGE', KEYS[3], 0, 0)
    if lru[1] then
      local id = lru[1]
      redis.call('HSET', KEYS[5], holder, id .. '|' .. now .. '|' .. exp .. '|' .. first .. '|1|' .. sid .. '|0|' .. sid)
      redis.call('ZADD', KEYS[6], gcAt, holder)
      return {'shared', id, redis.call('HGET', KEYS[7], id), now, exp, '1', 0, sid, '0'}
    end
  end
  return {'exhausted', '', '', now, now, '0', 0, '', '0'}
end
local r
if mode == 'acquire' then
  for i = 1, guards do
    redis.call('ZREMRANGEBYSCORE', KEYS[7 + i], '-inf', now)
    if redis.call('ZCARD', KEYS[7 + i]) >= tonumber(ARGV[5 + i]) then
      r = {'capped'}
      break
    end
  end
end
r = r or touch()
local leased = r[3] and r[3] ~= ''
if leased then
  for i = 1, guards do
    redis.call('ZADD', KEYS[7 + i], r[5], holder)
    redis.call('EXPIRE', KEYS[7 + i], ARGV[5])
  end
end
local a = 6 + guards
for k = 8 + guards, #KEYS do
  if leased or ARGV[a + 2] == '0' then redis.call('SET', KEYS[k], ARGV[a], 'EX', ARGV[a + 1]) end
  a = a + 3
end
return r
`;

/**
 * rebuild(KEYS: meta, free, leased, owner, bysess, sessgc, nums; ARGV: hold, max, policy, json, cool)
 * json = { numbers: [[id, e164, idleSinceMs]], leases: [[numberId, holder, startMs, expMs, shared(0|1), sessionId, reused(0|1)]] }
 * Does nothing when the pool is already in Redis (another node rebuilt it first).
 */
export const REBUILD_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, 7 do redis.call('DEL', KEYS[i]) end
local data = cjson.decode(ARGV[4])
local held = {}
for _, l in ipairs(data.leases) do
  local maxl = tonumber(ARGV[2]) * 1000
  redis.call('HSET', KEYS[5], l[2], l[1] .. '|' .. l[3] .. '|' .. l[4] .. '|' .. l[3] .. '|' .. l[5] .. '|' .. l[6] .. '|' .. l[7] .. '|' .. l[6])
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
redis.call('HSET', KEYS[1], 'hold', ARGV[1], 'max', ARGV[2], 'policy', ARGV[3], 'cool', ARGV[5], 'exhausted', 0)
return 1
`;
