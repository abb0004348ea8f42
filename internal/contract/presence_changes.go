package contract

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
)

// presenceChanges is the change tracking that keeps a checkpoint
// proportional to joins and leaves instead of to the audience.
func presenceChanges(t *testing.T, open func(t *testing.T) Presence) {
	ctx := context.Background()
	take := func(t *testing.T, s ivslive.PresenceStore, quiet time.Time, all bool) ivslive.PresenceChanges {
		t.Helper()
		tr, ok := s.(ivslive.ChangeTracker)
		if !ok {
			t.Fatalf("%T does not track its changes: every checkpoint would copy the whole audience", s)
		}
		ch, err := tr.Changes(ctx, quiet, all)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	ids := func(vs []ivslive.ViewerSession) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = v.ID
		}
		slices.Sort(out)
		return out
	}
	long := t0.Add(-time.Hour) // nobody is silent since then

	t.Run("checkpoint changes: joins, leaves and the silent", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA, stageB)
		u1 := join(t, p.Store, "u1", stageA, t0).Session
		u2 := join(t, p.Store, "u2", stageB, t0).Session
		u3 := join(t, p.Store, "u3", stageA, t0).Session
		full := take(t, p.Store, long, true)
		if !full.Full || !cmp.Equal(ids(full.Upsert), ids([]ivslive.ViewerSession{u1, u2, u3})) {
			t.Fatalf("full copy: %+v, want the 3 live sessions", full)
		}
		if ch := take(t, p.Store, long, false); ch.Full || len(ch.Upsert)+len(ch.Gone) != 0 {
			t.Fatalf("nothing changed, yet: %+v", ch)
		}

		// u1 leaves; u4 joins; u5 joins and leaves; u3 joins again (the
		// same session); u2 heartbeats; u3 stays silent.
		if _, err := p.Store.Leave(ctx, ivslive.LeaveRequest{StageARN: stageA, UserID: "u1", Now: t0.Add(time.Second), Reason: ivslive.EndLeave}); err != nil {
			t.Fatal(err)
		}
		u4 := join(t, p.Store, "u4", stageB, t0.Add(20*time.Second)).Session // not silent
		join(t, p.Store, "u5", stageA, t0.Add(3*time.Second))
		if _, err := p.Store.Leave(ctx, ivslive.LeaveRequest{StageARN: stageA, UserID: "u5", Now: t0.Add(4 * time.Second), Reason: ivslive.EndLeave}); err != nil {
			t.Fatal(err)
		}
		if again := join(t, p.Store, "u3", stageA, t0.Add(5*time.Second)).Session; again.ID != u3.ID {
			t.Fatalf("u3 joined again as a new session %s", again.ID)
		}
		if err := p.Store.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: stageB, UserID: "u2", Now: t0.Add(50 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		ch := take(t, p.Store, t0.Add(10*time.Second), false)
		if ch.Full {
			t.Fatal("an incremental take answered with a full copy")
		}
		// u3's join moved its last-seen on; what it is now is what counts.
		u3now, err := p.Store.Session(ctx, stageA, "u3")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]ivslive.ViewerSession{u4.ID: u4}
		if u3now.LastSeen.Before(t0.Add(10 * time.Second)) {
			want[u3.ID] = u3now // silent: its exact last-seen is written
		}
		got := map[string]ivslive.ViewerSession{}
		for _, v := range ch.Upsert {
			got[v.ID] = v
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("upserted (-want +got):\n%s", diff)
		}
		if !slices.Contains(ch.Gone, u1.ID) {
			t.Fatalf("gone %v: the saved session of u1 that left is missing", ch.Gone)
		}
		for _, id := range []string{u2.ID, u3.ID, u4.ID} {
			if slices.Contains(ch.Gone, id) {
				t.Fatalf("gone %v names %s, which is live", ch.Gone, id)
			}
		}
		if ch := take(t, p.Store, long, false); len(ch.Upsert)+len(ch.Gone) != 0 {
			t.Fatalf("the changes were taken, yet: %+v", ch)
		}
	})

	t.Run("releases, stage removals and skipped restores are gone", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA, stageB)
		r := join(t, p.Store, "r", stageA, t0).Session
		d := join(t, p.Store, "d", stageB, t0).Session
		live := join(t, p.Store, "live", stageA, t0).Session
		take(t, p.Store, long, true)
		if err := p.Store.Release(ctx, stageA, "r", r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Store.RemoveStage(ctx, stageB, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		// A checkpoint of live's earlier session, restored while live is
		// seated again: the stored one must not come back another time.
		if _, err := p.Store.Restore(ctx, []ivslive.ViewerSession{{ID: "stale", UserID: "live", StageARN: stageA, JoinedAt: t0, LastSeen: t0}}); err != nil {
			t.Fatal(err)
		}
		ch := take(t, p.Store, long, false)
		for _, id := range []string{r.ID, d.ID, "stale"} {
			if !slices.Contains(ch.Gone, id) {
				t.Errorf("gone %v: %s is missing", ch.Gone, id)
			}
		}
		if slices.Contains(ch.Gone, live.ID) || len(ch.Upsert) != 0 {
			t.Errorf("changes %+v: the live session was touched", ch)
		}
	})

	if open(t).Another == nil {
		return
	}
	t.Run("another taker means a full copy", func(t *testing.T) {
		p := open(t)
		other := p.Another(t)
		putStages(t, p.Store, stageA)
		join(t, p.Store, "u1", stageA, t0)
		take(t, p.Store, long, true)
		if ch := take(t, other, long, false); !ch.Full || len(ch.Upsert) != 1 {
			t.Fatalf("a taker that never took got %+v, want the full copy", ch)
		}
		join(t, p.Store, "u2", stageA, t0)
		// The other instance took the changes since: the first cannot know
		// what it wrote.
		if ch := take(t, p.Store, long, false); !ch.Full || len(ch.Upsert) != 2 {
			t.Fatalf("after another taker: %+v, want the full copy", ch)
		}
		if p.Lose == nil {
			return
		}
		take(t, p.Store, long, false)
		p.Lose(t)
		putStages(t, p.Store, stageA)
		join(t, p.Store, "u3", stageA, t0)
		if ch := take(t, p.Store, long, false); !ch.Full || len(ch.Upsert) != 1 {
			t.Fatalf("after the data was lost: %+v, want the full copy", ch)
		}
	})
}
