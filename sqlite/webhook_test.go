package sqlite_test

import (
	"context"
	"testing"

	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/sqlite"
	"github.com/ivslive/ivslive/webhook"
)

func TestWebhookContract(t *testing.T) {
	contract.WebhookStore(t, func(t *testing.T, archiveSize, logSize int) webhook.Store {
		db, err := sqlite.Open(context.Background(), ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		w, err := sqlite.NewWebhooks(context.Background(), db, archiveSize, logSize)
		if err != nil {
			t.Fatal(err)
		}
		return w
	})
}
