package redis_test

import (
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

func TestLeaseContract(t *testing.T) {
	contract.LeaseStore(t, func(t *testing.T) ivslive.LeaseStore {
		client, prefix := testenv.Redis(t)
		return redis.NewLeases(client, prefix)
	})
}
