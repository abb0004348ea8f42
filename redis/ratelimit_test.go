package redis_test

import (
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

func TestRateLimiterContract(t *testing.T) {
	contract.RateLimiter(t, func(t *testing.T) (ivslive.RateLimiter, ivslive.RateLimiter) {
		client, prefix := testenv.Redis(t)
		b := redis.NewBatcher(client, 2)
		t.Cleanup(func() { b.Close() })
		return redis.NewRateLimiter(client, prefix), redis.NewRateLimiter(client, prefix, redis.WithBatcher(b))
	})
}
