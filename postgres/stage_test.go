package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/postgres"
)

func openDB(t *testing.T) *postgres.DB {
	t.Helper()
	return openPool(t, 0)
}

// openPool opens a fresh database with a pool of up to maxConns (0: the
// default).
func openPool(t *testing.T, maxConns int32) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), postgres.Options{URL: testenv.PostgresURL(t), MaxConns: maxConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStageStoreContract(t *testing.T) {
	// A wide pool with its connections open, so the contract's concurrent
	// creates really run at once.
	contract.StageStore(t, func(t *testing.T) ivslive.StageStore {
		db := openPool(t, 12)
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() { defer wg.Done(); db.Ping(context.Background()) }()
		}
		wg.Wait()
		return db
	})
}

// TestMigrateIsIdempotent opens a database twice: the first open applies
// every migration, the second applies none.
func TestMigrateIsIdempotent(t *testing.T) {
	url := testenv.PostgresURL(t)
	var applied [2][]string
	for i := range applied {
		db, err := postgres.Open(context.Background(), postgres.Options{URL: url})
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		applied[i] = db.Migrated()
		db.Close()
	}
	if len(applied[0]) == 0 {
		t.Error("the first open applied no migration")
	}
	if len(applied[1]) != 0 {
		t.Errorf("the second open applied %v again", applied[1])
	}
}
