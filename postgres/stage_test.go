package postgres_test

import (
	"context"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/postgres"
)

func openDB(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), postgres.Options{URL: testenv.PostgresURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStageStoreContract(t *testing.T) {
	contract.StageStore(t, func(t *testing.T) ivslive.StageStore { return openDB(t) })
}

func TestMigrateIsIdempotent(t *testing.T) {
	url := testenv.PostgresURL(t)
	for i := 0; i < 2; i++ {
		db, err := postgres.Open(context.Background(), postgres.Options{URL: url})
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		db.Close()
	}
}
