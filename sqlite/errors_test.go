package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/sqlite"
)

// A database locked by another process beyond the busy timeout is an
// outage (EUNAVAILABLE, a 503), not an internal error.
func TestLockedDatabaseIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ivslive.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := db.Exec(ctx, `PRAGMA busy_timeout = 50`); err != nil {
		t.Fatal(err)
	}
	if err := other.Exec(ctx, `BEGIN IMMEDIATE`); err != nil { // holds the write lock
		t.Fatal(err)
	}
	defer other.Exec(ctx, `ROLLBACK`)
	err = db.SaveStage(ctx, ivslive.Stage{ARN: "arn:aws:ivs:us-east-1:123456789012:stage/a", CreatedAt: time.Now()})
	if ivslive.ErrorCode(err) != ivslive.EUNAVAILABLE {
		t.Fatalf("write to a locked database: %v, want %s", err, ivslive.EUNAVAILABLE)
	}
	if err := db.RecordSessions(ctx, []ivslive.ClosedSession{{ViewerSession: ivslive.ViewerSession{ID: "s", UserID: "u",
		StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/a"}, Reason: ivslive.EndLeave}}); ivslive.ErrorCode(err) != ivslive.EUNAVAILABLE {
		t.Fatalf("record into a locked database: %v, want %s", err, ivslive.EUNAVAILABLE)
	}
	if letters, _, _, _ := db.FindDeadLetters(ctx, ivslive.DeadLetterFilter{Limit: 10}); len(letters) != 0 {
		t.Fatalf("a lock was taken for a poison record: %+v", letters)
	}
}
