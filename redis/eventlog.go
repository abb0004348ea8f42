package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

// EventLog implements ivslive.EventLog on Redis: one key per event id,
// <p>ivsevent:<id>, holding "claim:<owner>" (SET NX PX, the claim's ttl)
// or "applied" (the duplicates' window), so every instance consuming the
// event queue shares it.
type EventLog struct {
	client goredis.UniversalClient
	prefix string
}

var _ ivslive.EventLog = (*EventLog)(nil)

// NewEventLog returns an event log on client under prefix.
func NewEventLog(client goredis.UniversalClient, prefix string) *EventLog {
	return &EventLog{client: client, prefix: prefix}
}

// claimEventScript claims the event unless it is applied or claimed by
// another owner; the same owner renews. KEYS: event. ARGV: owner, ttl ms.
// Returns 0 claimed, 1 busy, 2 applied (ivslive.EventClaim).
var claimEventScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == 'applied' then return 2 end
if cur and cur ~= 'claim:' .. ARGV[1] then return 1 end
redis.call('SET', KEYS[1], 'claim:' .. ARGV[1], 'PX', ARGV[2])
return 0
`)

// releaseEventScript deletes the claim only if owner holds it.
var releaseEventScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == 'claim:' .. ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

func (l *EventLog) key(id string) string { return l.prefix + "ivsevent:" + id }

// ClaimEvent implements ivslive.EventLog.
func (l *EventLog) ClaimEvent(ctx context.Context, id, owner string, ttl time.Duration) (ivslive.EventClaim, error) {
	n, err := claimEventScript.Run(ctx, l.client, []string{l.key(id)}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return 0, unavailable("claim event", err)
	}
	if n < 0 || n > 2 {
		return 0, malformed("claim event", fmt.Errorf("answer %d", n))
	}
	return ivslive.EventClaim(n), nil
}

// FinishEvent implements ivslive.EventLog.
func (l *EventLog) FinishEvent(ctx context.Context, id string, ttl time.Duration) error {
	if err := l.client.Set(ctx, l.key(id), "applied", ttl).Err(); err != nil {
		return unavailable("finish event", err)
	}
	return nil
}

// ReleaseEvent implements ivslive.EventLog.
func (l *EventLog) ReleaseEvent(ctx context.Context, id, owner string) error {
	if err := releaseEventScript.Run(ctx, l.client, []string{l.key(id)}, owner).Err(); err != nil {
		return unavailable("release event", err)
	}
	return nil
}
