package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/sqlite"
)

// The spool keeps records on disk until the remote store has them, and
// forwards each once even when it is written twice.
func TestSpoolForwardsOnlyWhatTheRemoteStored(t *testing.T) {
	ctx := context.Background()
	spool := sqlite.NewSpool(openDB(t), nil)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var batch []ivslive.ClosedSession
	for i := 0; i < 5; i++ {
		batch = append(batch, ivslive.ClosedSession{ViewerSession: ivslive.ViewerSession{ID: fmt.Sprint("s", i), UserID: "u",
			StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/a", JoinedAt: t0, LastSeen: t0}, LeftAt: t0.Add(time.Minute), Reason: ivslive.EndLeave})
	}
	if err := spool.RecordSessions(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := spool.RecordSessions(ctx, batch[:2]); err != nil {
		t.Fatal(err)
	}
	if n, _ := spool.Backlog(ctx); n != 5 {
		t.Fatalf("backlog %d, want 5", n)
	}
	remote := &contract.Sink{Fail: errors.New("connection refused")}
	if _, err := spool.Drain(ctx, remote, 3); err == nil {
		t.Fatal("drain into a failing store succeeded")
	}
	if n, _ := spool.Backlog(ctx); n != 5 {
		t.Fatalf("a failed drain lost records: backlog %d", n)
	}
	remote.SetFail(nil)
	for {
		n, err := spool.Drain(ctx, remote, 3)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	got := remote.Sessions()
	if len(got) != 5 || got[0].ID != "s0" || !got[4].LeftAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("forwarded %+v", got)
	}
	if n, _ := spool.Backlog(ctx); n != 0 {
		t.Fatalf("backlog %d after draining", n)
	}
}

// A spooled record that cannot be read goes to the remote store's dead
// letters and leaves the spool; Oldest dates the oldest record waiting.
func TestSpoolDeadLettersUnreadableRecords(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return t0 }
	spool := sqlite.NewSpool(db, nil)
	if at, err := spool.Oldest(ctx); err != nil || !at.IsZero() {
		t.Fatalf("oldest of an empty spool: %v, %v", at, err)
	}
	good := ivslive.ClosedSession{ViewerSession: ivslive.ViewerSession{ID: "s1", UserID: "u",
		StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/a", JoinedAt: t0, LastSeen: t0}, LeftAt: t0, Reason: ivslive.EndLeave}
	if err := spool.RecordSessions(ctx, []ivslive.ClosedSession{good}); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(ctx, `INSERT INTO session_spool (id, payload, spooled_at) VALUES ('torn', '{"ID":"torn","Us', '2026-11-25T12:00:05.000Z')`); err != nil {
		t.Fatal(err)
	}
	if at, err := spool.Oldest(ctx); err != nil || !at.Equal(t0) {
		t.Fatalf("oldest = %v, %v; want %v", at, err, t0)
	}
	remote := &contract.Sink{}
	if n, err := spool.Drain(ctx, remote, 10); err != nil || n != 1 {
		t.Fatalf("drain: %d, %v; want 1", n, err)
	}
	letters := remote.DeadLetters()
	if len(remote.Sessions()) != 1 || len(letters) != 1 || letters[0].Source != ivslive.DeadLetterFromSpool ||
		letters[0].Record != `{"ID":"torn","Us` || letters[0].Error == "" {
		t.Fatalf("forwarded %d, dead letters %+v", len(remote.Sessions()), letters)
	}
	if n, _ := spool.Backlog(ctx); n != 0 {
		t.Fatalf("backlog %d after draining", n)
	}
}
