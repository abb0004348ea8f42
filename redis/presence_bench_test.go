package redis_test

import (
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

func BenchmarkPresence(b *testing.B) {
	contract.BenchmarkPresence(b, func(b *testing.B) ivslive.PresenceStore {
		client, prefix := testenv.Redis(b)
		return redis.NewPresence(client, prefix)
	})
}
