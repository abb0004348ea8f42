package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts. Every script takes the key prefix as ARGV[1] and builds
// its key names from it (see the package doc for why and what that costs).
// Times are Unix milliseconds. Scripts that close sessions return the closed
// records flattened, closedWidth strings each, in the order of the fields
// of closedRecord.

// luaPrelude is shared by every script: key names and close, the one place
// a session ends.
const luaPrelude = `
local p = ARGV[1]
local function livekey(arn) return p .. 'stage:' .. arn .. ':live' end
local function sessionkey(arn, user) return p .. 'session:' .. arn .. ':' .. user end

-- close ends user's live session on arn and appends its record to the stream
-- in the same script, so closing and enqueueing history are one atomic step.
-- left is the end time in ms, or false for the last-seen time. It appends the
-- record to out and returns true, or returns false when there is no session.
local function close(arn, user, left, reason, out)
  local lk, sk = livekey(arn), sessionkey(arn, user)
  local last = redis.call('ZSCORE', lk, user)
  if not last then return false end
  local h = redis.call('HMGET', sk, 'id', 'pid', 'joined', 'ua', 'ip')
  redis.call('ZREM', lk, user)
  redis.call('DEL', sk)
  local rec = {h[1] or '', user, arn, h[2] or '', h[3] or last, last, left or last, reason, h[4] or '', h[5] or ''}
  redis.call('XADD', p .. 'sessions:closed', '*',
    'id', rec[1], 'user', rec[2], 'stage', rec[3], 'pid', rec[4], 'joined', rec[5],
    'last', rec[6], 'left', rec[7], 'reason', rec[8], 'ua', rec[9], 'ip', rec[10])
  for _, v in ipairs(rec) do out[#out + 1] = v end
  return true
end
`

// putStageScript registers a stage (once, with the next sequence number) and
// sets its state. ARGV: prefix, arn, state.
var putStageScript = goredis.NewScript(luaPrelude + `
local stages = p .. 'stages'
if not redis.call('ZSCORE', stages, ARGV[2]) then
  redis.call('ZADD', stages, redis.call('INCR', p .. 'stages:seq'), ARGV[2])
end
redis.call('HSET', p .. 'stage:states', ARGV[2], ARGV[3])
return 1
`)

// removeStageScript closes up to limit sessions of a stage as stage_deleted
// and, once none is left, forgets the stage. The first call marks the stage
// draining so no new viewer takes a seat while it is emptied over several
// bounded calls; a crash in between leaves a draining stage that expiry or
// another RemoveStage finishes. ARGV: prefix, arn, now, limit.
// Returns {done (0|1), records...}.
var removeStageScript = goredis.NewScript(luaPrelude + `
local arn, now, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
local stages, states = p .. 'stages', p .. 'stage:states'
if not redis.call('ZSCORE', stages, arn) then return {1} end
redis.call('HSET', states, arn, 'draining')
local out = {0}
local lk = livekey(arn)
for _, user in ipairs(redis.call('ZRANGE', lk, 0, limit - 1)) do
  close(arn, user, now, 'stage_deleted', out)
end
if redis.call('ZCARD', lk) == 0 then
  redis.call('ZREM', stages, arn)
  redis.call('HDEL', states, arn)
  out[1] = 1
end
return out
`)

// loadsScript lists every stage in registration order with its state and
// count, in O(stages). ARGV: prefix. Returns {arn, state, count, ...}.
var loadsScript = goredis.NewScript(luaPrelude + `
local out = {}
for _, arn in ipairs(redis.call('ZRANGE', p .. 'stages', 0, -1)) do
  out[#out + 1] = arn
  out[#out + 1] = redis.call('HGET', p .. 'stage:states', arn) or ''
  out[#out + 1] = redis.call('ZCARD', livekey(arn))
end
return out
`)

// joinScript chooses the stage and takes the seat in one step: the
// requested stage, else the stage the user is on, else the least-loaded
// active stage under threshold, else under capacity (ties to the older
// stage). A named stage takes new viewers only when requested; a stage in
// any other state than active or named takes none. A user already on the
// stage keeps session id and joined-at.
// ARGV: prefix, user, requested arn, session id, pid, ua, ip, now,
// threshold, capacity. Returns {'ok', arn, id, pid, joined, ua, ip, last,
// count, new (0|1)} or {'nostage'}, {'draining'}, {'full'}.
var joinScript = goredis.NewScript(luaPrelude + `
local user, want, sid, pid, ua, ip, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local threshold, capacity = tonumber(ARGV[9]), tonumber(ARGV[10])
local stages, states = p .. 'stages', p .. 'stage:states'
local arn
if want ~= '' then
  if not redis.call('ZSCORE', stages, want) then return {'nostage'} end
  if not redis.call('ZSCORE', livekey(want), user) then
    local state = redis.call('HGET', states, want)
    if state ~= 'active' and state ~= 'named' then return {'draining'} end
    if redis.call('ZCARD', livekey(want)) >= capacity then return {'full'} end
  end
  arn = want
else
  local all = redis.call('ZRANGE', stages, 0, -1)
  for _, a in ipairs(all) do
    if redis.call('ZSCORE', livekey(a), user) then
      arn = a
      break
    end
  end
  if not arn then
    local counts = {}
    for i, a in ipairs(all) do
      if redis.call('HGET', states, a) == 'active' then counts[i] = redis.call('ZCARD', livekey(a)) end
    end
    for _, limit in ipairs({threshold, capacity}) do
      local best
      for i = 1, #all do
        local n = counts[i]
        if n and n < limit and (not best or n < counts[best]) then best = i end
      end
      if best then
        arn = all[best]
        break
      end
    end
    if not arn then return {'full'} end
  end
end
local lk, sk = livekey(arn), sessionkey(arn, user)
local new = 0
if redis.call('ZSCORE', lk, user) and redis.call('EXISTS', sk) == 1 then
  if pid ~= '' then redis.call('HSET', sk, 'pid', pid) end
  if ua ~= '' then redis.call('HSET', sk, 'ua', ua) end
  if ip ~= '' then redis.call('HSET', sk, 'ip', ip) end
  redis.call('ZADD', lk, 'GT', now, user)
else
  redis.call('HSET', sk, 'id', sid, 'pid', pid, 'joined', now, 'ua', ua, 'ip', ip)
  redis.call('ZADD', lk, now, user)
  new = 1
end
local h = redis.call('HMGET', sk, 'id', 'pid', 'joined', 'ua', 'ip')
return {'ok', arn, h[1], h[2], h[3], h[4], h[5], redis.call('ZSCORE', lk, user), redis.call('ZCARD', lk), new}
`)

// heartbeatScript moves last-seen forward for a live session and never
// creates one. ARGV: prefix, arn, user, session id (empty for any), now.
// Returns 1, or 0 when there is no such session.
var heartbeatScript = goredis.NewScript(luaPrelude + `
local arn, user, sid = ARGV[2], ARGV[3], ARGV[4]
local lk = livekey(arn)
if not redis.call('ZSCORE', lk, user) then return 0 end
if sid ~= '' and redis.call('HGET', sessionkey(arn, user), 'id') ~= sid then return 0 end
redis.call('ZADD', lk, 'XX', 'GT', ARGV[5], user)
return 1
`)

// leaveScript closes one live session at max(now, last-seen).
// ARGV: prefix, arn, user, session id (empty for any), now, reason.
// Returns the record, or {} when there is no such session.
var leaveScript = goredis.NewScript(luaPrelude + `
local arn, user, sid, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local last = redis.call('ZSCORE', livekey(arn), user)
if not last then return {} end
if sid ~= '' and redis.call('HGET', sessionkey(arn, user), 'id') ~= sid then return {} end
local left = now
if tonumber(last) > tonumber(now) then left = last end
local out = {}
close(arn, user, left, ARGV[6], out)
return out
`)

// expireScript closes, as timeouts at their last-seen, up to limit sessions
// last seen before cutoff, stage by stage in registration order.
// ARGV: prefix, cutoff, limit. Returns the records.
var expireScript = goredis.NewScript(luaPrelude + `
local cutoff, limit = ARGV[2], tonumber(ARGV[3])
local out, n = {}, 0
for _, arn in ipairs(redis.call('ZRANGE', p .. 'stages', 0, -1)) do
  if n >= limit then break end
  for _, user in ipairs(redis.call('ZRANGEBYSCORE', livekey(arn), '-inf', '(' .. cutoff, 'LIMIT', 0, limit - n)) do
    if close(arn, user, false, 'timeout', out) then n = n + 1 end
  end
end
return out
`)

// releaseScript removes a session, recording nothing, only if it has the
// given id. ARGV: prefix, arn, user, session id. Returns 1 or 0.
var releaseScript = goredis.NewScript(luaPrelude + `
local arn, user = ARGV[2], ARGV[3]
local sk = sessionkey(arn, user)
if redis.call('HGET', sk, 'id') ~= ARGV[4] then return 0 end
redis.call('ZREM', livekey(arn), user)
redis.call('DEL', sk)
return 1
`)

// setParticipantScript sets the participant id of a live session with the
// given id. ARGV: prefix, arn, user, session id, pid. Returns 1 or 0.
var setParticipantScript = goredis.NewScript(luaPrelude + `
local arn, user = ARGV[2], ARGV[3]
local sk = sessionkey(arn, user)
if not redis.call('ZSCORE', livekey(arn), user) then return 0 end
if redis.call('HGET', sk, 'id') ~= ARGV[4] then return 0 end
redis.call('HSET', sk, 'pid', ARGV[5])
return 1
`)

// clearPublisherScript deletes the publisher if it has the participant id
// (empty for any): compare and delete in one step, so clearing a stale
// publisher never ends a newer broadcast. ARGV: prefix, pid. Returns 1 or 0.
var clearPublisherScript = goredis.NewScript(luaPrelude + `
local k = p .. 'publisher'
if ARGV[2] == '' or redis.call('HGET', k, 'pid') == ARGV[2] then
  redis.call('DEL', k)
  return 1
end
return 0
`)

// restoreScript puts back checkpointed sessions on known stages, skipping
// users already live there. ARGV: prefix, then groups of arn, user, id, pid,
// joined, last, ua, ip. Returns how many it restored.
var restoreScript = goredis.NewScript(luaPrelude + `
local n = 0
for i = 2, #ARGV, 8 do
  local arn, user = ARGV[i], ARGV[i + 1]
  if redis.call('ZSCORE', p .. 'stages', arn) and not redis.call('ZSCORE', livekey(arn), user) then
    redis.call('HSET', sessionkey(arn, user), 'id', ARGV[i + 2], 'pid', ARGV[i + 3], 'joined', ARGV[i + 4], 'ua', ARGV[i + 6], 'ip', ARGV[i + 7])
    redis.call('ZADD', livekey(arn), ARGV[i + 5], user)
    n = n + 1
  end
end
return n
`)
