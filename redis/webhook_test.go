package redis_test

import (
	"testing"

	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
	"github.com/ivslive/ivslive/webhook"
)

func TestWebhookContract(t *testing.T) {
	contract.WebhookStore(t, func(t *testing.T, archiveSize, logSize int) webhook.Store {
		client, prefix := testenv.Redis(t)
		return redis.NewWebhooks(client, prefix, archiveSize, logSize)
	})
}
