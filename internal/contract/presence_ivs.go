package contract

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ivslive/ivslive"
)

// presenceFollowsIVS is the part of the presence contract that follows what
// IVS reports: its connected counts, and viewers it saw leave.
func presenceFollowsIVS(t *testing.T, open func(t *testing.T) Presence) {
	ctx := context.Background()

	t.Run("ivs counts are replaced whole", func(t *testing.T) {
		p := open(t)
		got, err := p.Store.IVSCounts(ctx)
		if err != nil || len(got) != 0 {
			t.Fatalf("counts of a new store = %v, %v; want none", got, err)
		}
		first := []ivslive.IVSCount{{StageARN: stageA, Connected: 3, At: t0}, {StageARN: stageB, Connected: 0, At: t0}}
		second := []ivslive.IVSCount{{StageARN: stageB, Connected: 7, At: t0.Add(2 * time.Second)}}
		for _, want := range [][]ivslive.IVSCount{first, second} {
			if err := p.Store.SetIVSCounts(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, err := p.Store.IVSCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			byARN := func(a, b ivslive.IVSCount) bool { return a.StageARN < b.StageARN }
			if diff := cmp.Diff(want, got, cmpopts.SortSlices(byARN)); diff != "" {
				t.Fatalf("counts (-want +got):\n%s", diff)
			}
		}
	})

	t.Run("a disconnect closes the session once, at the time given", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA)
		res := join(t, p.Store, "u1", stageA, t0)
		left := t0.Add(42 * time.Second)
		req := ivslive.LeaveRequest{StageARN: stageA, UserID: "u1", SessionID: res.Session.ID, Now: left, Reason: ivslive.EndDisconnected}
		c, err := p.Store.Leave(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if c.Reason != ivslive.EndDisconnected || !c.LeftAt.Equal(left) || c.WatchDuration() != 42*time.Second {
			t.Fatalf("closed = %+v, want disconnected at %v", c, left)
		}
		_, err = p.Store.Leave(ctx, req)
		wantCode(t, err, ivslive.ENOTFOUND)
		// The user came back meanwhile: the old session's close must not
		// end the new one.
		join(t, p.Store, "u1", stageA, t0.Add(time.Minute))
		_, err = p.Store.Leave(ctx, req)
		wantCode(t, err, ivslive.ENOTFOUND)
		if n := loads(t, p.Store)[stageA]; n != 1 {
			t.Fatalf("count = %d, want the new session", n)
		}
		// A heartbeat that arrived after IVS saw the viewer leave: the
		// session ends at its last heartbeat, never before it.
		again, err := p.Store.Session(ctx, stageA, "u1")
		if err != nil {
			t.Fatal(err)
		}
		seen := t0.Add(2 * time.Minute)
		if err := p.Store.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: stageA, UserID: "u1", SessionID: again.ID, Now: seen}); err != nil {
			t.Fatal(err)
		}
		late, err := p.Store.Leave(ctx, ivslive.LeaveRequest{StageARN: stageA, UserID: "u1", SessionID: again.ID, Now: seen.Add(-time.Second), Reason: ivslive.EndDisconnected})
		if err != nil || !late.LeftAt.Equal(seen) {
			t.Fatalf("closed %+v, %v; want left at the last heartbeat %v", late, err, seen)
		}
		rec := p.Recorded(t)
		if len(rec) != 2 || rec[0].Reason != ivslive.EndDisconnected || !rec[0].LeftAt.Equal(left) {
			t.Fatalf("recorded %+v, want the first disconnected session left at %v", rec, left)
		}
	})

}
