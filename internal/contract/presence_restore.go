package contract

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
)

// presenceRestore is the part of the presence contract that rebuilds a store
// which lost its data: restoring a checkpoint, and knowing it is intact.
func presenceRestore(t *testing.T, open func(t *testing.T) Presence) {
	ctx := context.Background()

	t.Run("restore from a checkpoint", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA)
		live := join(t, p.Store, "already", stageA, t0.Add(time.Minute))
		back := []ivslive.ViewerSession{
			{ID: "r1", UserID: "u1", StageARN: stageA, ParticipantID: "p1", JoinedAt: t0, LastSeen: t0.Add(30 * time.Second), UserAgent: "ua", IP: "192.0.2.1"},
			{ID: "old", UserID: "already", StageARN: stageA, JoinedAt: t0, LastSeen: t0},
			{ID: "r3", UserID: "u3", StageARN: stageB, JoinedAt: t0, LastSeen: t0},
		}
		n, err := p.Store.Restore(ctx, back)
		if err != nil || n != 1 {
			t.Fatalf("restored %d, %v; want 1 (one user already live, one unknown stage)", n, err)
		}
		got, err := p.Store.Session(ctx, stageA, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(back[0], got); diff != "" {
			t.Fatalf("restored session (-want +got):\n%s", diff)
		}
		if s, _ := p.Store.Session(ctx, stageA, "already"); s.ID != live.Session.ID {
			t.Fatalf("restore replaced a live session: %+v", s)
		}
		// A restored session expires like any other, at its last-seen time.
		closed, _ := p.Store.Expire(ctx, t0.Add(45*time.Second), 10)
		if len(closed) != 1 || closed[0].ID != "r1" || !closed[0].LeftAt.Equal(t0.Add(30*time.Second)) {
			t.Fatalf("expired %+v", closed)
		}
	})

	t.Run("intact until the data is lost", func(t *testing.T) {
		p := open(t)
		intact := func() bool {
			t.Helper()
			ok, err := p.Store.Intact(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if intact() {
			t.Fatal("a new store says it is intact: nothing would restore the checkpoint")
		}
		putStages(t, p.Store, stageA)
		join(t, p.Store, "u1", stageA, t0)
		if intact() {
			t.Fatal("registering stages and seating viewers marked the store intact")
		}
		if err := p.Store.MarkIntact(ctx); err != nil {
			t.Fatal(err)
		}
		if !intact() {
			t.Fatal("not intact after MarkIntact")
		}
		if p.Lose == nil {
			return
		}
		p.Lose(t)
		if intact() {
			t.Fatal("still intact after the data was lost")
		}
		if got := loads(t, p.Store); len(got) != 0 {
			t.Fatalf("loads after the loss: %v", got)
		}
	})

}
