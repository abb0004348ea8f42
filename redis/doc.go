// Package redis is the shared presence twin: live viewers, exact per-stage
// counts, expiry and the live publisher, kept in Redis so that many ivslive
// instances see one truth. It passes the same contract suite as the memory
// twin, and its Recorder moves closed sessions from Redis to the history
// store exactly once.
//
// # Key layout
//
// Every key starts with the prefix the caller passes (REDIS_KEY_PREFIX,
// "ivs:prod:" by default), written <p> below. Each fact has exactly one home
// and there are no counters that could drift from what they count:
//
//	<p>stages                  ZSET   member stage ARN, score registration sequence
//	<p>stages:seq              STRING INCR source of that sequence
//	<p>stage:states            HASH   ARN → "active" | "draining"
//	<p>stage:<arn>:live        ZSET   member user id, score last-seen Unix ms
//	<p>stage:<arn>:sessions    HASH   user id → packed record: id, pid, joined
//	                                  (ms, 6 bytes), user agent number or
//	                                  text, ip (IPv4 in 4 bytes); record.go
//	<p>stage:<arn>:joined      LIST   user ids seated since the last checkpoint
//	<p>checkpoint:gone         LIST   ids of sessions ended since then
//	<p>checkpoint:token        STRING the last checkpoint taker's token; both
//	                                  lists move to <key>:taking while one
//	                                  is read (changes.go)
//	<p>agents                  HASH   user agent → its number (1 to 4,096)
//	<p>agents:ids              HASH   number → user agent
//	<p>layout                  STRING "2" once the sessions of the layout
//	                                  before packed records were converted
//	<p>sessions:closed         STREAM one entry per closed session: id, user,
//	                                  stage, pid, joined, last, left, reason, ua, ip
//	<p>publisher               HASH   user, pid, stage, joined, expires; PEXPIRE until expires
//	<p>secret:session          STRING the key of viewer session tokens (64 hex
//	                                  characters), set once with SET NX
//	<p>ivsevent:<id>           STRING "claim:<owner>" (PX claim ttl) or "applied"
//	                                  (PX duplicates' window): an IVS event
//	                                  being applied or applied (EventLog)
//	<p>ivs:counts              STRING JSON of IVS's connected viewers per stage,
//	                                  replaced whole by the leader; PX ivsCountsTTL
//
// Why this shape:
//
//   - Stages are a ZSET scored by registration order so assignment iterates
//     them oldest first and ties go to the older stage, as in memory.
//   - A stage's viewer count is the ZCARD of its live ZSET: the count is the
//     set of live sessions, never a separate counter, so it cannot drift.
//   - A viewer is one field of its stage's sessions hash, not a key of its
//     own: a key per viewer cost about 100 bytes of name (the stage ARN
//     repeated in each) plus Redis's per-key overhead, and a hash of five
//     fields per viewer its own overhead again. The record packs the five
//     values with length bytes, joined-at in 6 bytes and an IPv4 address in
//     4, so a typical record stays in jemalloc's 64-byte size class; the
//     user agent, the longest and the most repeated value, is interned as a
//     number in the agents table (bounded like the memory twin's: past 4,096
//     distinct ones it stays inline, so a flood costs what it cost before).
//     Measured per viewer, the keys went from 381 to 257 bytes through the
//     server, 438–448 to 230–246 in process (docs/BENCHMARKS.md). The
//     interned numbers are never reused or removed, so a number read once
//     always names the same user agent until Redis loses everything.
//   - Last-seen lives only in the live ZSET score. A heartbeat is then one
//     ZADD XX GT (O(log n), never creates), and expiry is a ZRANGEBYSCORE
//     from the oldest, proportional to the sessions it closes.
//   - The Node server kept stage:<arn>:viewers as a SET; the live ZSET has a
//     different name so a shared Redis never answers WRONGTYPE.
//   - Closing a session and enqueueing its history record happen in one Lua
//     script (ZREM + HDEL + XADD), so a session is never closed without its
//     record, nor recorded twice. The Recorder drains the stream into the
//     history store with a consumer group and deletes what it acknowledged,
//     which keeps the stream bounded by the undelivered backlog.
//
// # Upgrading from one key per session
//
// Versions before packed records kept each session in a hash key
// <p>session:<arn>:<userId> (fields id, pid, joined, ua, ip). A new binary
// started against a Redis holding live viewers in that layout orphans none:
//
//   - Every script reads a session through record() (record.go), which falls
//     back to the old key and converts it in place (HSET of the record, DEL
//     of the key) in the same atomic step (the heartbeat, the hottest
//     script, reads the old key without converting). Heartbeats, leaves,
//     expiry and Viewers therefore see old sessions as they are, and each
//     still closes into history with all its fields, including sessions an
//     old instance wrote until it stopped.
//   - At start, each instance runs MigrateLayout in the background: under
//     the lease "layout" one instance visits every stage's live set with
//     ZSCAN and converts scriptBatch sessions per script call, then sets
//     <p>layout so later starts skip the scan. It is idempotent; a crash
//     midway leaves the rest to the next start or to first touch.
//
// The fallback costs one HMGET only when a live user has no record, which
// the new layout never produces; it can go once no deploy may still hold
// the old layout. Closing a session also deletes its old-layout key, so
// none outlives its session.
//
// Old instances do not know packed records: one that serves a session made
// by a new instance answers its session-token heartbeat 404 (the client
// rejoins) and, if it closes it, records it without its fields. Replace the
// instances rather than mixing versions: stop the old ones, then start the
// new ones (presence waits in Redis; a pause shorter than VIEWER_TIMEOUT
// expires nobody). Rolling back likewise needs every new instance stopped
// first, and loses the fields of sessions the new version created.
//
// Every mutation is one Lua script (EVALSHA, one round trip) that keeps all
// keys consistent atomically; Join makes the whole stage choice and takes
// the seat in the same script, so concurrent joins never overfill a stage.
// No request path uses KEYS or SCAN.
//
// The scripts build key names from the prefix passed as an argument instead
// of declaring them as KEYS, because Join must reach stages it only learns
// about inside the script. That is not Redis Cluster safe: a single primary
// (for example ElastiCache with cluster mode disabled) is required, running
// Redis 6.2 or later (ZADD GT, XAUTOCLAIM).
//
// Times are stored as Unix milliseconds and returned as UTC time.Time.
// Every Redis failure (connection refused, timeout, read-only replica)
// comes back as an ivslive EUNAVAILABLE error, never as NOT_FOUND.
package redis
