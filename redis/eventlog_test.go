package redis_test

import (
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

func TestEventLogContract(t *testing.T) {
	contract.EventLog(t, func(t *testing.T) (ivslive.EventLog, func(time.Duration)) {
		client, prefix := testenv.Redis(t)
		return redis.NewEventLog(client, prefix), waitOnRedisClock
	})
}
