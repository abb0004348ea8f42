package http_test

import (
	"testing"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

type ivshttpConfig = ivshttp.Config

func redisLimiter(b *testing.B) ivslive.RateLimiter {
	client, prefix := testenv.Redis(b)
	batcher := redis.NewBatcher(client, 2)
	b.Cleanup(func() { batcher.Close() })
	return redis.NewRateLimiter(client, prefix, redis.WithBatcher(batcher))
}
