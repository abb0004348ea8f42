package contract

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ivslive/ivslive"
)

func closed(id, user, stage string, joined time.Time, watched time.Duration, reason ivslive.EndReason) ivslive.ClosedSession {
	return ivslive.ClosedSession{
		ViewerSession: ivslive.ViewerSession{ID: id, UserID: user, StageARN: stage, ParticipantID: "p-" + id,
			JoinedAt: joined, LastSeen: joined.Add(watched), UserAgent: "ua/1", IP: "192.0.2.7"},
		LeftAt: joined.Add(watched), Reason: reason,
	}
}

// HistoryStore runs the history contract. open must return an empty store;
// refuse must make its database refuse RefusedUser's session records with
// an error naming RefusedText (see deadLetterCases).
func HistoryStore(t *testing.T, open func(t *testing.T) ivslive.HistoryStore, refuse func(t *testing.T, h ivslive.HistoryStore)) {
	ctx := context.Background()
	deadLetterCases(t, open, refuse)

	t.Run("a session is recorded once, fields intact", func(t *testing.T) {
		h := open(t)
		c := closed("s1", "alice", stageA, t0.Add(123*time.Millisecond), 90*time.Second, ivslive.EndTimeout)
		for i := 0; i < 3; i++ {
			if err := h.RecordSessions(ctx, []ivslive.ClosedSession{c}); err != nil {
				t.Fatal(err)
			}
		}
		got, next, total, err := h.FindSessions(ctx, ivslive.SessionFilter{UserID: "alice", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]ivslive.ClosedSession{c}, got); diff != "" || total != 1 || next != "" {
			t.Fatalf("found (-want +got):\n%s total=%d next=%q", diff, total, next)
		}
	})

	t.Run("every end reason is stored", func(t *testing.T) {
		h := open(t)
		reasons := []ivslive.EndReason{ivslive.EndLeave, ivslive.EndTimeout, ivslive.EndDisconnected,
			ivslive.EndKicked, ivslive.EndShutdown, ivslive.EndStageDeleted}
		var want []ivslive.ClosedSession
		for i, r := range reasons {
			want = append(want, closed(fmt.Sprintf("r%d", i), "dora", stageA, t0.Add(time.Duration(i)*time.Minute), time.Minute, r))
		}
		if err := h.RecordSessions(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, _, _, err := h.FindSessions(ctx, ivslive.SessionFilter{UserID: "dora", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(reasons) {
			t.Fatalf("stored %d of %d sessions (a reason refused?): %+v", len(got), len(reasons), got)
		}
		for _, g := range got {
			if g.Reason != want[int(g.ID[1]-'0')].Reason {
				t.Fatalf("session %s has reason %q, want %q", g.ID, g.Reason, want[int(g.ID[1]-'0')].Reason)
			}
		}
	})

	t.Run("history pages newest first", func(t *testing.T) {
		h := open(t)
		var batch []ivslive.ClosedSession
		for i := 0; i < 25; i++ {
			batch = append(batch, closed(fmt.Sprintf("s%02d", i), "bob", stageA, t0.Add(time.Duration(i)*time.Minute), time.Minute, ivslive.EndLeave))
		}
		batch = append(batch, closed("other", "carol", stageA, t0, time.Minute, ivslive.EndLeave))
		if err := h.RecordSessions(ctx, batch); err != nil {
			t.Fatal(err)
		}
		var ids []string
		cur := ""
		for pages := 0; ; pages++ {
			page, next, total, err := h.FindSessions(ctx, ivslive.SessionFilter{UserID: "bob", After: cur, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if total != 25 {
				t.Fatalf("total = %d, want 25", total)
			}
			for _, s := range page {
				ids = append(ids, s.ID)
			}
			if next == "" {
				break
			}
			cur = next
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if len(ids) != 25 || ids[0] != "s24" || ids[24] != "s00" {
			t.Fatalf("ids = %v", ids)
		}
		if _, _, _, err := h.FindSessions(ctx, ivslive.SessionFilter{UserID: "bob", After: "!!", Limit: 10}); ivslive.ErrorCode(err) != ivslive.EVALIDATION {
			t.Fatalf("bad cursor: %v", err)
		}
	})

	t.Run("stage stats", func(t *testing.T) {
		h := open(t)
		err := h.RecordSessions(ctx, []ivslive.ClosedSession{
			closed("a", "u1", stageA, t0, 10*time.Second, ivslive.EndLeave),
			closed("b", "u1", stageA, t0.Add(time.Hour), 20*time.Second, ivslive.EndLeave),
			closed("c", "u2", stageA, t0.Add(2*time.Hour), 31*time.Second, ivslive.EndTimeout),
			closed("d", "u3", stageB, t0.Add(2*time.Hour), 500*time.Second, ivslive.EndLeave),
			closed("old", "u4", stageA, t0.Add(-48*time.Hour), 900*time.Second, ivslive.EndLeave),
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := h.StageSessionStats(ctx, stageA, t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := ivslive.SessionStats{TotalViews: 3, UniqueViewers: 2, AvgWatchSeconds: 20, MaxWatchSeconds: 31, TotalWatchSeconds: 61}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("stats (-want +got):\n%s", diff)
		}
		empty, err := h.StageSessionStats(ctx, stageC, t0)
		if err != nil || empty != (ivslive.SessionStats{}) {
			t.Fatalf("empty stage stats = %+v, %v", empty, err)
		}
	})

	t.Run("snapshots, series and retention", func(t *testing.T) {
		h := open(t)
		var snaps []ivslive.Snapshot
		for i := 0; i < 12; i++ { // one hour at 5-minute intervals
			at := t0.Add(time.Duration(i) * 5 * time.Minute)
			snaps = append(snaps, ivslive.Snapshot{StageARN: stageA, Time: at, Viewers: i * 10},
				ivslive.Snapshot{StageARN: ivslive.TotalStageARN, Time: at, Viewers: i * 10})
		}
		if err := h.SaveSnapshots(ctx, snaps); err != nil {
			t.Fatal(err)
		}
		series, err := h.SnapshotSeries(ctx, stageA, t0, t0.Add(time.Hour), 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := []ivslive.SnapshotBucket{
			{Start: t0, AvgViewers: 25, PeakViewers: 50},
			{Start: t0.Add(30 * time.Minute), AvgViewers: 85, PeakViewers: 110},
		}
		if diff := cmp.Diff(want, series); diff != "" {
			t.Fatalf("series (-want +got):\n%s", diff)
		}
		if peak, err := h.PeakViewers(ctx, stageA, t0, t0.Add(30*time.Minute)); err != nil || peak != 50 {
			t.Fatalf("peak = %d, %v; want 50", peak, err)
		}
		// Retention removes exactly the snapshots before the horizon.
		n, err := h.DeleteSnapshotsBefore(ctx, t0.Add(15*time.Minute))
		if err != nil || n != 6 {
			t.Fatalf("deleted %d, %v; want 6 (3 times × stage and total)", n, err)
		}
		left, _ := h.SnapshotSeries(ctx, ivslive.TotalStageARN, t0.Add(-time.Hour), t0.Add(2*time.Hour), time.Hour)
		if len(left) != 1 || left[0].PeakViewers != 110 || left[0].AvgViewers != 70 {
			t.Fatalf("total series after retention = %+v", left)
		}
	})

	t.Run("session retention", func(t *testing.T) {
		h := open(t)
		h.RecordSessions(ctx, []ivslive.ClosedSession{
			closed("old", "u", stageA, t0.Add(-100*24*time.Hour), time.Minute, ivslive.EndLeave),
			closed("edge", "u", stageA, t0.Add(-time.Minute), time.Minute, ivslive.EndLeave),
			closed("new", "u", stageA, t0, time.Minute, ivslive.EndLeave),
		})
		n, err := h.DeleteSessionsBefore(ctx, t0)
		if err != nil || n != 1 {
			t.Fatalf("deleted %d, %v; want 1 (left_at before the horizon only)", n, err)
		}
		_, _, total, _ := h.FindSessions(ctx, ivslive.SessionFilter{UserID: "u", Limit: 10})
		if total != 2 {
			t.Fatalf("%d sessions left, want 2", total)
		}
	})

	t.Run("checkpoint", func(t *testing.T) {
		h := open(t)
		if _, err := h.LoadCheckpoint(ctx); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
			t.Fatalf("empty store: %v, want NOT_FOUND", err)
		}
		live := []ivslive.ViewerSession{
			closed("k1", "u1", stageA, t0, time.Minute, "").ViewerSession,
			closed("k2", "u2", stageB, t0, 2*time.Minute, "").ViewerSession,
		}
		if err := h.SaveCheckpoint(ctx, ivslive.Checkpoint{TakenAt: t0.Add(5 * time.Minute), Sessions: live[:1]}); err != nil {
			t.Fatal(err)
		}
		if err := h.SaveCheckpoint(ctx, ivslive.Checkpoint{TakenAt: t0.Add(10 * time.Minute), Sessions: live}); err != nil {
			t.Fatal(err)
		}
		// k1 closed after the checkpoint: it must not come back.
		h.RecordSessions(ctx, []ivslive.ClosedSession{closed("k1", "u1", stageA, t0, 3*time.Minute, ivslive.EndLeave)})
		c, err := h.LoadCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := ivslive.Checkpoint{TakenAt: t0.Add(10 * time.Minute), Sessions: live[1:]}
		if diff := cmp.Diff(want, c); diff != "" {
			t.Fatalf("checkpoint (-want +got):\n%s", diff)
		}
	})

	// An incremental checkpoint removes what left and stores what is new
	// or changed over what is there; the sessions it did not write come
	// back last seen at SeenSince at the earliest; a full one after it
	// replaces all.
	t.Run("incremental checkpoint", func(t *testing.T) {
		h := open(t)
		var all []ivslive.ViewerSession
		for i := range 5 {
			all = append(all, closed(fmt.Sprint("i", i), fmt.Sprint("u", i), stageA, t0, time.Minute, "").ViewerSession)
		}
		if err := h.SaveCheckpoint(ctx, ivslive.Checkpoint{TakenAt: t0.Add(5 * time.Minute), Sessions: all[:3]}); err != nil {
			t.Fatal(err)
		}
		moved := all[2]
		moved.LastSeen = moved.LastSeen.Add(time.Minute)
		err := h.SaveCheckpoint(ctx, ivslive.Checkpoint{TakenAt: t0.Add(10 * time.Minute), Incremental: true, SeenSince: t0.Add(90 * time.Second),
			Gone: []string{"i0", "never-saved"}, Sessions: []ivslive.ViewerSession{moved, all[3], all[4]}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := h.LoadCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		unwritten := all[1]
		unwritten.LastSeen = t0.Add(90 * time.Second)
		want := ivslive.Checkpoint{TakenAt: t0.Add(10 * time.Minute), Sessions: []ivslive.ViewerSession{unwritten, moved, all[3], all[4]}}
		if diff := cmp.Diff(want, c, cmpopts.SortSlices(func(a, b ivslive.ViewerSession) bool { return a.ID < b.ID })); diff != "" {
			t.Fatalf("after an incremental checkpoint (-want +got):\n%s", diff)
		}
		if err := h.SaveCheckpoint(ctx, ivslive.Checkpoint{TakenAt: t0.Add(15 * time.Minute), Sessions: all[4:]}); err != nil {
			t.Fatal(err)
		}
		if c, err = h.LoadCheckpoint(ctx); err != nil || len(c.Sessions) != 1 || c.Sessions[0].ID != "i4" {
			t.Fatalf("a full checkpoint after it kept %+v, %v", c.Sessions, err)
		}
	})
}
