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
