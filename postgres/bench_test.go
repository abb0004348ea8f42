package postgres_test

import (
	"context"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/postgres"
)

func BenchmarkHistoryWrites(b *testing.B) {
	contract.BenchmarkHistoryWrites(b, func(b *testing.B) ivslive.HistoryStore {
		db, err := postgres.Open(context.Background(), postgres.Options{URL: testenv.PostgresURL(b)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	})
}
