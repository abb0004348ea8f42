package redis_test

import (
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

func TestLeaseContract(t *testing.T) {
	contract.LeaseStore(t, func(t *testing.T) (ivslive.LeaseStore, func(time.Duration)) {
		client, prefix := testenv.Redis(t)
		return redis.NewLeases(client, prefix), waitOnRedisClock
	})
}

// waitOnRedisClock lets d pass on Redis's clock, which expires keys (PX) and
// which no test can move: the wait is the clock, with a margin for timer
// slack.
func waitOnRedisClock(d time.Duration) { time.Sleep(d + 50*time.Millisecond) }
