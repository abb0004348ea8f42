package redis

import goredis "github.com/redis/go-redis/v9"

// The webhook queue's scripts (see Webhooks for the key layout). Every
// script takes the key prefix as ARGV[1] and the target as ARGV[2] (but
// enqueue, which spans targets); times are Unix milliseconds.

// webhookPrelude is shared by the scripts that claim: key names, and
// claim, the one place a queue's head is leased.
const webhookPrelude = `
local p, target = ARGV[1], ARGV[2]
local due, head = p .. 'webhook:due:' .. target, p .. 'webhook:head:' .. target
local function queue(stage) return p .. 'webhook:q:' .. target .. ':' .. stage end

-- claim leases the oldest job of the stage's queue until now + lease,
-- counting an attempt at it (the first when first), and appends
-- {stage, entry id, attempts, lease, id, type, time, body, enq} to out;
-- an empty queue is forgotten instead.
local function claim(stage, now, lease, first, out)
  local h = redis.call('XRANGE', queue(stage), '-', '+', 'COUNT', 1)
  if #h == 0 then
    redis.call('ZREM', due, stage)
    redis.call('HDEL', head, 'a:' .. stage, 'l:' .. stage)
    return
  end
  local token = tostring(redis.call('INCR', p .. 'webhook:seq'))
  local attempts = 1
  if first then
    redis.call('HSET', head, 'a:' .. stage, 1)
  else
    attempts = redis.call('HINCRBY', head, 'a:' .. stage, 1)
  end
  redis.call('HSET', head, 'l:' .. stage, token)
  redis.call('ZADD', due, now + lease, stage)
  local f = {}
  local kv = h[1][2]
  for i = 1, #kv, 2 do f[kv[i]] = kv[i + 1] end
  for _, v in ipairs({stage, h[1][1], attempts, token, f.id or '', f.type or '', f.time or '0', f.body or '', f.enq or '0'}) do
    out[#out + 1] = v
  end
end

-- logged appends an attempt (JSON) to the log, and to the failures log when
-- failed, trimmed to size, and updates the target's state.
local function logged(json, failed, at, err, size)
  if json == '' then return end
  local state = p .. 'webhook:target:' .. target
  redis.call('LPUSH', p .. 'webhook:attempts', json)
  redis.call('LTRIM', p .. 'webhook:attempts', 0, size - 1)
  if failed == '1' then
    redis.call('LPUSH', p .. 'webhook:failures', json)
    redis.call('LTRIM', p .. 'webhook:failures', 0, size - 1)
    redis.call('HSET', state, 'failed', at, 'error', err)
    redis.call('HINCRBY', state, 'failing', 1)
  else
    redis.call('HSET', state, 'delivered', at, 'failing', 0)
  end
end
`

// webhookEnqueueScript archives events and queues jobs, leaving out jobs
// of disabled targets. ARGV: prefix, archive size, event count, then per
// event id, type, time, stage, body, then per job target, id, type, time,
// stage, body, enqueued.
var webhookEnqueueScript = goredis.NewScript(`
local p, size, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local events, index = p .. 'webhook:event', p .. 'webhook:events'
local i = 4
for _ = 1, n do
  local id, t = ARGV[i], ARGV[i + 2]
  if redis.call('HSETNX', events, id, ARGV[i + 1] .. '\n' .. t .. '\n' .. ARGV[i + 3] .. '\n' .. ARGV[i + 4]) == 1 then
    redis.call('ZADD', index, t, id)
  end
  i = i + 5
end
local excess = redis.call('ZCARD', index) - size
while excess > 0 do
  local chunk = math.min(excess, 1000)
  redis.call('HDEL', events, unpack(redis.call('ZRANGE', index, 0, chunk - 1)))
  redis.call('ZREMRANGEBYRANK', index, 0, chunk - 1)
  excess = excess - chunk
end
local disabled = {}
while i <= #ARGV do
  local target, stage, enq = ARGV[i], ARGV[i + 4], ARGV[i + 6]
  if disabled[target] == nil then
    disabled[target] = redis.call('HEXISTS', p .. 'webhook:target:' .. target, 'disabled') == 1
  end
  if not disabled[target] then
    redis.call('XADD', p .. 'webhook:q:' .. target .. ':' .. stage, '*',
      'id', ARGV[i + 1], 'type', ARGV[i + 2], 'time', ARGV[i + 3], 'body', ARGV[i + 5], 'enq', enq)
    redis.call('ZADD', p .. 'webhook:due:' .. target, 'NX', enq, stage)
  end
  i = i + 7
end
return 1
`)

// webhookClaimScript leases the heads of up to max due queues of a
// target, most overdue first. ARGV: prefix, target, now, lease, max.
// Returns the claimed jobs, 9 values each (see claim).
var webhookClaimScript = goredis.NewScript(webhookPrelude + `
local now, lease = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for _, stage in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))) do
  claim(stage, now, lease, false, out)
end
return out
`)

// webhookAckScript removes a job whose lease is still held, logs the
// attempt, and claims the queue's next job. ARGV: prefix, target, stage,
// entry id, lease, now, lease ms, log size, attempt JSON, failed (0|1),
// attempt time, error. Returns {0} when the lease was lost, else {1} and
// the next job (9 values) if there is one.
var webhookAckScript = goredis.NewScript(webhookPrelude + `
local stage = ARGV[3]
if redis.call('HGET', head, 'l:' .. stage) ~= ARGV[5] then return {0} end
redis.call('XDEL', queue(stage), ARGV[4])
logged(ARGV[9], ARGV[10], ARGV[11], ARGV[12], tonumber(ARGV[8]))
local out = {1}
claim(stage, tonumber(ARGV[6]), tonumber(ARGV[7]), true, out)
return out
`)

// webhookRetryScript gives back a job whose lease is still held, due at a
// given time, and logs the attempt (none: given back untried, uncounted). ARGV: prefix, target, stage, lease,
// due, log size, attempt JSON, failed, attempt time, error. Returns 0 when
// the lease was lost.
var webhookRetryScript = goredis.NewScript(webhookPrelude + `
local stage = ARGV[3]
if redis.call('HGET', head, 'l:' .. stage) ~= ARGV[4] then return 0 end
redis.call('HDEL', head, 'l:' .. stage)
redis.call('ZADD', due, 'XX', ARGV[5], stage)
if ARGV[7] == '' then -- given back untried: the claim's attempt does not count
  redis.call('HINCRBY', head, 'a:' .. stage, -1)
end
logged(ARGV[7], ARGV[8], ARGV[9], ARGV[10], tonumber(ARGV[6]))
return 1
`)

// webhookDisableScript marks a target disabled and drops its queues.
// ARGV: prefix, target, time, reason. Returns the jobs dropped.
var webhookDisableScript = goredis.NewScript(webhookPrelude + `
redis.call('HSET', p .. 'webhook:target:' .. target, 'disabled', ARGV[3], 'reason', ARGV[4])
local n = 0
for _, stage in ipairs(redis.call('ZRANGE', due, 0, -1)) do
  n = n + redis.call('XLEN', queue(stage))
  redis.call('UNLINK', queue(stage))
end
redis.call('DEL', due, head)
return n
`)

// webhookTargetScript reads a target's state and counts its queued jobs,
// in O(queues). ARGV: prefix, target. Returns {disabled, reason,
// delivered, failed, error, failing, queued}.
var webhookTargetScript = goredis.NewScript(webhookPrelude + `
local out = redis.call('HMGET', p .. 'webhook:target:' .. target, 'disabled', 'reason', 'delivered', 'failed', 'error', 'failing')
local n = 0
for _, stage in ipairs(redis.call('ZRANGE', due, 0, -1)) do
  n = n + redis.call('XLEN', queue(stage))
end
for i = 1, 6 do out[i] = out[i] or '' end
out[7] = n
return out
`)
