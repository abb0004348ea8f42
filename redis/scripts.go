package redis

import (
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// The Lua scripts. Every script takes the key prefix as ARGV[1] and builds
// its key names from it (see the package doc for why and what that costs).
// Times are Unix milliseconds. Scripts that close sessions return the closed
// records flattened, closedWidth strings each, in the order of the fields
// of closedRecord.

// luaPrelude is shared by every script: key names, change tracking for
// checkpoints (changes.go) and close, the one place a session ends.
var luaPrelude = `
local p = ARGV[1]
local function livekey(arn) return p .. 'stage:' .. arn .. ':live' end
local function joinedkey(arn) return p .. 'stage:' .. arn .. ':joined' end
local gonekey = p .. 'checkpoint:gone'
-- track notes v on a change list until the next checkpoint takes it. A list
-- past its bound (no checkpoint for too long) is dropped and the token
-- spoilt, so the next checkpoint copies everything instead.
local function track(key, v)
  if redis.call('RPUSH', key, v) > ` + strconv.Itoa(maxTracked) + ` then
    redis.call('UNLINK', key)
    redis.call('SET', p .. 'checkpoint:token', 'overflow')
  end
end
` + luaRecord + `
-- close ends user's live session on arn and appends its record to the stream
-- in the same script, so closing and enqueueing history are one atomic step.
-- left is the end time in ms, or false for the last-seen time. It appends the
-- record to out and returns true, or returns false when there is no session.
local function close(arn, user, left, reason, out)
  local lk = livekey(arn)
  local last = redis.call('ZSCORE', lk, user)
  if not last then return false end
  local id, pid, joined, ua, ip = '', '', '', '', ''
  local rec = record(arn, user)
  if rec then id, pid, joined, ua, ip = fields(rec) end
  if joined == '' then joined = last end
  redis.call('ZREM', lk, user)
  redis.call('HDEL', recordskey(arn), user)
  -- An old-layout key left by an older instance that reseated the user
  -- would otherwise outlive the session (see the package doc).
  redis.call('DEL', oldkey(arn, user))
  if id ~= '' then track(gonekey, id) end
  local r = {id, user, arn, pid, joined, last, left or last, reason, ua, ip}
  redis.call('XADD', p .. 'sessions:closed', '*',
    'id', r[1], 'user', r[2], 'stage', r[3], 'pid', r[4], 'joined', r[5],
    'last', r[6], 'left', r[7], 'reason', r[8], 'ua', r[9], 'ip', r[10])
  for _, v in ipairs(r) do out[#out + 1] = v end
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
  redis.call('UNLINK', joinedkey(arn))
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
local lk, rk = livekey(arn), recordskey(arn)
local new, rec = 0, false
if redis.call('ZSCORE', lk, user) then rec = record(arn, user) end
local joined = now
if rec then
  -- A user already seated keeps id and joined-at; what the request names
  -- replaces the rest. The reply comes from the parts at hand, so the
  -- user agent is read back only when the request had none.
  local pt = parts(rec)
  local was = pack(pt)
  if pid ~= '' then pt[2] = field(pid) end
  if ua ~= '' then pt[4] = agentref(ua) else ua = agenttext(pt[4]) end
  if ip ~= '' then setip(pt, ip) end
  local repacked = pack(pt)
  if repacked ~= was then redis.call('HSET', rk, user, repacked) end
  redis.call('ZADD', lk, 'GT', now, user)
  sid, pid, joined, ip = fieldtext(pt[1]), fieldtext(pt[2]), millistext(fieldtext(pt[3])), iptext(pt)
else
  redis.call('HSET', rk, user, newrecord(sid, pid, now, ua, ip))
  redis.call('ZADD', lk, now, user)
  track(joinedkey(arn), user)
  new = 1
end
return {'ok', arn, sid, pid, joined, ua, ip, redis.call('ZSCORE', lk, user), redis.call('ZCARD', lk), new}
`)

// heartbeatScript moves last-seen forward for a live session and never
// creates one. ARGV: prefix, arn, user, encoded session id (packField;
// empty for any), now, session id. Returns 1, or 0 when there is no such
// session. It is the hottest script, so it skips luaPrelude, whose
// closures cost more than the heartbeat's own commands: it spells the key
// names out and reads a session of the older layout without converting it.
var heartbeatScript = goredis.NewScript(`
local p, arn, user, sid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lk = p .. 'stage:' .. arn .. ':live'
if not redis.call('ZSCORE', lk, user) then return 0 end
if sid ~= '' then
  local rec = redis.call('HGET', p .. 'stage:' .. arn .. ':sessions', user)
  if rec then
    if string.sub(rec, 2, 1 + #sid) ~= sid then return 0 end
  elseif redis.call('HGET', p .. 'session:' .. arn .. ':' .. user, 'id') ~= ARGV[6] then
    return 0
  end
end
redis.call('ZADD', lk, 'XX', 'GT', ARGV[5], user)
return 1
`)

// leaveScript closes one live session at max(now, last-seen).
// ARGV: prefix, arn, user, encoded session id (empty for any), now, reason.
// Returns the record, or {} when there is no such session.
var leaveScript = goredis.NewScript(luaPrelude + `
local arn, user, sid, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local last = redis.call('ZSCORE', livekey(arn), user)
if not last then return {} end
if sid ~= '' then
  local rec = record(arn, user)
  if not rec or not hasid(rec, sid) then return {} end
end
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
// given id (a checkpoint that saved it deletes it). ARGV: prefix, arn,
// user, encoded session id. Returns 1 or 0.
var releaseScript = goredis.NewScript(luaPrelude + `
local arn, user = ARGV[2], ARGV[3]
local rec = record(arn, user)
if not rec or not hasid(rec, ARGV[4]) then return 0 end
redis.call('ZREM', livekey(arn), user)
redis.call('HDEL', recordskey(arn), user)
track(gonekey, (fields(rec)))
return 1
`)

// setParticipantScript sets the participant id of a live session with the
// given id. ARGV: prefix, arn, user, encoded session id, pid. Returns 1
// or 0.
var setParticipantScript = goredis.NewScript(luaPrelude + `
local arn, user = ARGV[2], ARGV[3]
if not redis.call('ZSCORE', livekey(arn), user) then return 0 end
local rec = record(arn, user)
if not rec or not hasid(rec, ARGV[4]) then return 0 end
local pt = parts(rec)
pt[2] = field(ARGV[5])
redis.call('HSET', recordskey(arn), user, pack(pt))
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
// users already live there; a skipped session is noted as gone, so the next
// checkpoint deletes it instead of restoring it again. ARGV: prefix, then groups of arn, user, id, pid,
// joined, last, ua, ip. Returns how many it restored.
var restoreScript = goredis.NewScript(luaPrelude + `
local n = 0
for i = 2, #ARGV, 8 do
  local arn, user = ARGV[i], ARGV[i + 1]
  if redis.call('ZSCORE', p .. 'stages', arn) and not redis.call('ZSCORE', livekey(arn), user) then
    redis.call('HSET', recordskey(arn), user, newrecord(ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 6], ARGV[i + 7]))
    redis.call('ZADD', livekey(arn), ARGV[i + 5], user)
    n = n + 1
  else
    track(gonekey, ARGV[i + 2])
  end
end
return n
`)

// sessionScript reads one live session. ARGV: prefix, arn, user. Returns
// {last, record, user agent}, or {} when the user is not live there (a seat
// without a record reads as no session).
var sessionScript = goredis.NewScript(luaPrelude + `
local arn, user = ARGV[2], ARGV[3]
local last = redis.call('ZSCORE', livekey(arn), user)
if not last then return {} end
local rec = record(arn, user)
if not rec then return {} end
return {last, rec, agenttext(parts(rec)[4])}
`)

// recordsScript reads the records of users on a stage that Viewers found
// no record for, converting sessions of the older layout. ARGV: prefix,
// arn, users... Returns a record or false per user.
var recordsScript = goredis.NewScript(luaPrelude + `
local out = {}
for i = 3, #ARGV do out[#out + 1] = record(ARGV[2], ARGV[i]) end
return out
`)
