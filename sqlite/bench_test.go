package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/sqlite"
)

func BenchmarkHistoryWrites(b *testing.B) {
	contract.BenchmarkHistoryWrites(b, func(b *testing.B) ivslive.HistoryStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	})
}
