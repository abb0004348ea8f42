package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/sqlite"
)

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ivslive.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStageStoreContract(t *testing.T) {
	contract.StageStore(t, func(t *testing.T) ivslive.StageStore { return openDB(t) })
}

// TestMigrateIsIdempotent opens a database twice: the first open applies
// every migration, the second applies none.
func TestMigrateIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ivslive.db")
	var applied [2][]string
	for i := range applied {
		db, err := sqlite.Open(context.Background(), path)
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

// The database and every file SQLite adds next to it are readable by the
// owner only, even in a data dir that already exists (and so escapes the
// directory's 0700), and files left readable by an older version are
// tightened.
func TestFilesAreOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.db")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ivslive.db", "spool.db", "old.db"} {
		db, err := sqlite.Open(context.Background(), filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		// A write makes SQLite create its WAL and shared-memory files.
		if err := db.SetSetting(context.Background(), "k", "v"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	entries, _ := os.ReadDir(dir)
	checked := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), perm)
		}
		checked++
	}
	if checked < 6 {
		t.Fatalf("only %d files in the data dir; want each database with its -wal and -shm", checked)
	}
}
