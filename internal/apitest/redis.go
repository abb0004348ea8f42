package apitest

import (
	"context"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

// RedisPresence is an Options.Presence that uses the test Redis server with
// a key prefix of the test's own; it skips (or fails in CI) without Redis.
func RedisPresence(t testing.TB, sink ivslive.SessionSink, now func() time.Time) (ivslive.PresenceStore, func(context.Context) error) {
	client, prefix := testenv.Redis(t)
	if now == nil {
		now = time.Now
	}
	rec := redis.NewRecorder(client, prefix, sink, "apitest", nil, redis.WithClock(now))
	b := redis.NewBatcher(client, 1)
	t.Cleanup(func() { b.Close() })
	return redis.NewPresence(client, prefix, redis.WithBatcher(b), redis.WithNow(now)), rec.Flush
}

// Twins runs f once with memory presence and once with Redis presence.
func Twins(t *testing.T, f func(t *testing.T, presence PresenceFunc)) {
	t.Run("memory", func(t *testing.T) { f(t, nil) })
	t.Run("redis", func(t *testing.T) { f(t, RedisPresence) })
}

// PresenceFunc is the type of Options.Presence.
type PresenceFunc = func(testing.TB, ivslive.SessionSink, func() time.Time) (ivslive.PresenceStore, func(context.Context) error)
