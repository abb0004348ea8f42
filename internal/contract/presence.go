package contract

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
)

// Presence is one presence store under test.
type Presence struct {
	Store ivslive.PresenceStore
	// Recorded returns every closed session that has reached the sink so
	// far, after delivering anything queued on the way (redis's stream).
	Recorded func(t *testing.T) []ivslive.ClosedSession
	// Lose, when set, wipes the store's data as an outage would (a Redis
	// restarted without persistence); nil for a store that cannot lose
	// data while its process lives.
	Lose func(t *testing.T)
	// Another, when set, opens the same data as a second instance would
	// (Redis); nil for a store of one process.
	Another func(t *testing.T) ivslive.PresenceStore
}

var (
	t0     = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	stageA = "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	stageB = "arn:aws:ivs:us-east-1:123456789012:stage/BBBBBBBBBBBB"
	stageC = "arn:aws:ivs:us-east-1:123456789012:stage/CCCCCCCCCCCC"
)

func join(t *testing.T, s ivslive.PresenceStore, user, stage string, at time.Time) ivslive.JoinResult {
	t.Helper()
	res, err := s.Join(context.Background(), ivslive.JoinRequest{
		UserID: user, StageARN: stage, SessionID: "s-" + user + "-" + at.Format("150405.000"),
		ParticipantID: "p" + user, Now: at, Threshold: 900, Capacity: 1000, UserAgent: "ua", IP: "192.0.2.1",
	})
	if err != nil {
		t.Fatalf("join %s: %v", user, err)
	}
	return res
}

func putStages(t *testing.T, s ivslive.PresenceStore, arns ...string) {
	t.Helper()
	for _, a := range arns {
		if err := s.PutStage(context.Background(), a, ivslive.StageActive); err != nil {
			t.Fatal(err)
		}
	}
}

func loads(t *testing.T, s ivslive.PresenceStore) map[string]int {
	t.Helper()
	ls, err := s.Loads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, l := range ls {
		m[l.ARN] = l.Viewers
	}
	return m
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := ivslive.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

// wantReason checks the code and the reason, which the HTTP layer puts in
// words: the twins must say the same thing, not only the same code.
func wantReason(t *testing.T, err error, code, reason string) {
	t.Helper()
	wantCode(t, err, code)
	if got := ivslive.ErrorReason(err); got != reason {
		t.Fatalf("error %v: reason %q, want %q", err, got, reason)
	}
}

// PresenceStore runs the presence contract. open must return an empty store.
func PresenceStore(t *testing.T, open func(t *testing.T) Presence) {
	ctx := context.Background()

	t.Run("same user joins twice and counts once", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA)
		first := join(t, p.Store, "u1", "", t0)
		if !first.New || first.Viewers != 1 || first.Session.StageARN != stageA {
			t.Fatalf("first join = %+v", first)
		}
		again := join(t, p.Store, "u1", "", t0.Add(time.Minute))
		if again.New || again.Viewers != 1 {
			t.Fatalf("second join = %+v, want not new with 1 viewer", again)
		}
		if again.Session.ID != first.Session.ID || !again.Session.JoinedAt.Equal(t0) {
			t.Fatalf("rejoin changed the session: %+v", again.Session)
		}
		if !again.Session.LastSeen.Equal(t0.Add(time.Minute)) {
			t.Fatalf("rejoin did not refresh last-seen: %v", again.Session.LastSeen)
		}
	})

	t.Run("assignment prefers the least loaded stage under the threshold", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA, stageB)
		for i := 0; i < 4; i++ {
			res := join(t, p.Store, fmt.Sprint("u", i), "", t0)
			want := []string{stageA, stageB, stageA, stageB}[i]
			if res.Session.StageARN != want {
				t.Fatalf("join %d went to %s, want %s", i, res.Session.StageARN, want)
			}
		}
		// A user already on a stage keeps it even when another is emptier.
		join(t, p.Store, "x", stageA, t0)
		if res := join(t, p.Store, "x", "", t0); res.Session.StageARN != stageA || res.New {
			t.Fatalf("returning user = %+v", res)
		}
	})

	t.Run("threshold, capacity, draining and full", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA, stageB)
		req := func(user string) (ivslive.JoinResult, error) {
			return p.Store.Join(ctx, ivslive.JoinRequest{UserID: user, SessionID: "s" + user, Now: t0, Threshold: 2, Capacity: 3})
		}
		var got []string
		for i := 0; i < 6; i++ {
			res, err := req(fmt.Sprint("u", i))
			if err != nil {
				t.Fatalf("join %d: %v", i, err)
			}
			got = append(got, res.Session.StageARN)
		}
		// Two each under the threshold, then the fallback fills to capacity.
		if diff := cmp.Diff([]string{stageA, stageB, stageA, stageB, stageA, stageB}, got); diff != "" {
			t.Fatalf("assignment (-want +got):\n%s", diff)
		}
		_, err := req("u6")
		wantReason(t, err, ivslive.ESTAGEFULL, ivslive.RStageFull)

		putStages(t, p.Store, stageC)
		if err := p.Store.PutStage(ctx, stageC, ivslive.StageDraining); err != nil {
			t.Fatal(err)
		}
		_, err = req("u7")
		wantReason(t, err, ivslive.ESTAGEFULL, ivslive.RStageFull)
		_, err = p.Store.Join(ctx, ivslive.JoinRequest{UserID: "u8", StageARN: stageC, SessionID: "s8", Now: t0, Threshold: 2, Capacity: 3})
		wantReason(t, err, ivslive.ESTAGEFULL, ivslive.RStageClosing)
		_, err = p.Store.Join(ctx, ivslive.JoinRequest{UserID: "u9", StageARN: stageA, SessionID: "s9", Now: t0, Threshold: 2, Capacity: 3})
		wantReason(t, err, ivslive.ESTAGEFULL, ivslive.RStageFull)
		_, err = p.Store.Join(ctx, ivslive.JoinRequest{UserID: "u9", StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/unknown", SessionID: "s9", Now: t0, Threshold: 2, Capacity: 3})
		wantReason(t, err, ivslive.ENOTFOUND, ivslive.RStage)
		// A viewer already on a full stage may rejoin it.
		if _, err := p.Store.Join(ctx, ivslive.JoinRequest{UserID: "u0", StageARN: stageA, SessionID: "x", Now: t0, Threshold: 2, Capacity: 3}); err != nil {
			t.Fatalf("rejoin on a full stage: %v", err)
		}
		if diff := cmp.Diff(map[string]int{stageA: 3, stageB: 3, stageC: 0}, loads(t, p.Store)); diff != "" {
			t.Fatalf("loads (-want +got):\n%s", diff)
		}
	})

	t.Run("named stages only when named, stages without the host never", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA, stageB, stageC)
		if err := p.Store.PutStage(ctx, stageB, ivslive.StageNamed); err != nil {
			t.Fatal(err)
		}
		if err := p.Store.PutStage(ctx, stageC, ivslive.StageNoHost); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if res := join(t, p.Store, fmt.Sprint("u", i), "", t0); res.Session.StageARN != stageA {
				t.Fatalf("join %d went to %s, want only the active stage", i, res.Session.StageARN)
			}
		}
		if res := join(t, p.Store, "asked", stageB, t0); res.Session.StageARN != stageB {
			t.Fatalf("a join naming the named stage went to %s", res.Session.StageARN)
		}
		_, err := p.Store.Join(ctx, ivslive.JoinRequest{UserID: "asked2", StageARN: stageC, SessionID: "s", Now: t0, Threshold: 45, Capacity: 50})
		wantCode(t, err, ivslive.ESTAGEFULL)
		// Its viewers stay: one seated before the host's media went keeps the seat.
		if err := p.Store.PutStage(ctx, stageC, ivslive.StageActive); err != nil {
			t.Fatal(err)
		}
		join(t, p.Store, "before", stageC, t0)
		if err := p.Store.PutStage(ctx, stageC, ivslive.StageNoHost); err != nil {
			t.Fatal(err)
		}
		if res := join(t, p.Store, "before", "", t0.Add(time.Second)); res.Session.StageARN != stageC || res.New {
			t.Fatalf("a viewer of a stage without the host lost the seat: %+v", res)
		}
		ls, err := p.Store.Loads(ctx)
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]ivslive.StageState{}
		for _, l := range ls {
			states[l.ARN] = l.State
		}
		if diff := cmp.Diff(map[string]ivslive.StageState{stageA: ivslive.StageActive, stageB: ivslive.StageNamed, stageC: ivslive.StageNoHost}, states); diff != "" {
			t.Fatalf("states (-want +got):\n%s", diff)
		}
	})

	t.Run("heartbeat never recreates and never undoes a leave", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA)
		res := join(t, p.Store, "u1", stageA, t0)
		hb := ivslive.HeartbeatRequest{StageARN: stageA, UserID: "u1", Now: t0.Add(10 * time.Second)}
		if err := p.Store.Heartbeat(ctx, hb); err != nil {
			t.Fatal(err)
		}
		// A heartbeat at the same time, or one that arrives late (another
		// instance's clock), is still a live viewer's: accepted, and
		// last-seen never moves back.
		for _, at := range []time.Duration{10 * time.Second, 5 * time.Second} {
			late := hb
			late.Now = t0.Add(at)
			if err := p.Store.Heartbeat(ctx, late); err != nil {
				t.Fatalf("heartbeat at +%v after one at +10s: %v", at, err)
			}
			withID := late
			withID.SessionID = res.Session.ID
			if err := p.Store.Heartbeat(ctx, withID); err != nil {
				t.Fatalf("heartbeat with the session id at +%v: %v", at, err)
			}
		}
		if s, err := p.Store.Session(ctx, stageA, "u1"); err != nil || !s.LastSeen.Equal(t0.Add(10*time.Second)) {
			t.Fatalf("last seen %v (%v), want +10s", s.LastSeen, err)
		}
		wrong := hb
		wrong.SessionID = "not-" + res.Session.ID
		wantReason(t, p.Store.Heartbeat(ctx, wrong), ivslive.ENOTFOUND, ivslive.RSession)
		closed, err := p.Store.Leave(ctx, ivslive.LeaveRequest{StageARN: stageA, UserID: "u1", Now: t0.Add(20 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if closed.Reason != ivslive.EndLeave || closed.WatchDuration() != 20*time.Second || closed.ID != res.Session.ID {
			t.Fatalf("closed = %+v", closed)
		}
		hb.Now = t0.Add(30 * time.Second)
		wantReason(t, p.Store.Heartbeat(ctx, hb), ivslive.ENOTFOUND, ivslive.RSession)
		wantReason(t, p.Store.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: stageA, UserID: "ghost", Now: t0}), ivslive.ENOTFOUND, ivslive.RSession)
		_, err = p.Store.Session(ctx, stageA, "u1")
		wantReason(t, err, ivslive.ENOTFOUND, ivslive.RSession)
		_, err = p.Store.Leave(ctx, ivslive.LeaveRequest{StageARN: stageA, UserID: "u1", Now: t0.Add(time.Minute)})
		wantReason(t, err, ivslive.ENOTFOUND, ivslive.RSession)
		if n := loads(t, p.Store)[stageA]; n != 0 {
			t.Fatalf("count after leave = %d", n)
		}
		rec := p.Recorded(t)
		if len(rec) != 1 || rec[0].ID != res.Session.ID || rec[0].Reason != ivslive.EndLeave || !rec[0].LeftAt.Equal(t0.Add(20*time.Second)) {
			t.Fatalf("recorded = %+v, want the one leave", rec)
		}
	})

	t.Run("expiry closes silent viewers at their last-seen", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA, stageB)
		join(t, p.Store, "quiet1", stageA, t0)
		join(t, p.Store, "quiet2", stageB, t0.Add(time.Second))
		join(t, p.Store, "alive", stageA, t0)
		if err := p.Store.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: stageA, UserID: "alive", Now: t0.Add(50 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		closed, err := p.Store.Expire(ctx, t0.Add(30*time.Second), 1000)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]time.Time{}
		for _, c := range closed {
			if c.Reason != ivslive.EndTimeout {
				t.Errorf("%s closed as %s", c.UserID, c.Reason)
			}
			got[c.UserID] = c.LeftAt
		}
		want := map[string]time.Time{"quiet1": t0, "quiet2": t0.Add(time.Second)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("expired (-want +got):\n%s", diff)
		}
		if again, _ := p.Store.Expire(ctx, t0.Add(30*time.Second), 1000); len(again) != 0 {
			t.Fatalf("second expiry closed %d more", len(again))
		}
		if diff := cmp.Diff(map[string]int{stageA: 1, stageB: 0}, loads(t, p.Store)); diff != "" {
			t.Fatalf("loads (-want +got):\n%s", diff)
		}
		if rec := p.Recorded(t); len(rec) != 2 {
			t.Fatalf("recorded %d sessions, want 2", len(rec))
		}
	})

	t.Run("expiry honours its batch limit", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA)
		for i := 0; i < 5; i++ {
			join(t, p.Store, fmt.Sprint("u", i), stageA, t0.Add(time.Duration(i)*time.Second))
		}
		closed, err := p.Store.Expire(ctx, t0.Add(time.Hour), 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(closed) != 3 || loads(t, p.Store)[stageA] != 2 {
			t.Fatalf("expired %d, %d left; want 3 and 2", len(closed), loads(t, p.Store)[stageA])
		}
	})

	t.Run("removing a stage closes its sessions", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA, stageB)
		join(t, p.Store, "u1", stageA, t0)
		join(t, p.Store, "u2", stageA, t0)
		join(t, p.Store, "u3", stageB, t0)
		closed, err := p.Store.RemoveStage(ctx, stageA, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(closed) != 2 || closed[0].Reason != ivslive.EndStageDeleted {
			t.Fatalf("closed = %+v", closed)
		}
		if diff := cmp.Diff(map[string]int{stageB: 1}, loads(t, p.Store)); diff != "" {
			t.Fatalf("loads (-want +got):\n%s", diff)
		}
		if rec := p.Recorded(t); len(rec) != 2 {
			t.Fatalf("recorded %d, want 2", len(rec))
		}
	})

	t.Run("release and participant id", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA)
		res := join(t, p.Store, "u1", stageA, t0)
		if err := p.Store.SetParticipant(ctx, stageA, "u1", res.Session.ID, "newpid"); err != nil {
			t.Fatal(err)
		}
		s, err := p.Store.Session(ctx, stageA, "u1")
		if err != nil || s.ParticipantID != "newpid" {
			t.Fatalf("session = %+v, %v", s, err)
		}
		if err := p.Store.Release(ctx, stageA, "u1", "other"); err != nil {
			t.Fatal(err)
		}
		if loads(t, p.Store)[stageA] != 1 {
			t.Fatal("release with another session id removed the session")
		}
		if err := p.Store.Release(ctx, stageA, "u1", res.Session.ID); err != nil {
			t.Fatal(err)
		}
		if loads(t, p.Store)[stageA] != 0 {
			t.Fatal("release did not remove the session")
		}
		if rec := p.Recorded(t); len(rec) != 0 {
			t.Fatalf("release recorded %d sessions", len(rec))
		}
	})

	t.Run("viewers and session fields", func(t *testing.T) {
		p := open(t)
		putStages(t, p.Store, stageA)
		res := join(t, p.Store, "u1", stageA, t0)
		vs, err := p.Store.Viewers(ctx, stageA)
		if err != nil {
			t.Fatal(err)
		}
		want := []ivslive.ViewerSession{{ID: res.Session.ID, UserID: "u1", StageARN: stageA, ParticipantID: "pu1",
			JoinedAt: t0, LastSeen: t0, UserAgent: "ua", IP: "192.0.2.1"}}
		if diff := cmp.Diff(want, vs); diff != "" {
			t.Fatalf("viewers (-want +got):\n%s", diff)
		}
	})

	t.Run("publisher", func(t *testing.T) {
		p := open(t)
		_, err := p.Store.Publisher(ctx)
		wantCode(t, err, ivslive.ENOTFOUND)
		pub := ivslive.Publisher{UserID: "host", ParticipantID: "pp", StageARN: stageA,
			JoinedAt: time.Now().UTC().Truncate(time.Millisecond), ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond),
			Publishing: true, PublishingID: "pq", StateAt: time.Now().UTC().Truncate(time.Millisecond)}
		if err := p.Store.SetPublisher(ctx, pub); err != nil {
			t.Fatal(err)
		}
		got, err := p.Store.Publisher(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(pub, got); diff != "" {
			t.Fatalf("publisher (-want +got):\n%s", diff)
		}
		if err := p.Store.ClearPublisher(ctx, "someone-else"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Store.Publisher(ctx); err != nil {
			t.Fatal("clearing another participant ended the broadcast")
		}
		p.Store.ClearPublisher(ctx, "pp")
		_, err = p.Store.Publisher(ctx)
		wantCode(t, err, ivslive.ENOTFOUND)
		pub.ExpiresAt = time.Now().Add(-time.Second)
		p.Store.SetPublisher(ctx, pub)
		_, err = p.Store.Publisher(ctx)
		wantCode(t, err, ivslive.ENOTFOUND)
	})

	presenceFollowsIVS(t, open)
	presenceRestore(t, open)
	presenceChanges(t, open)
	t.Run("concurrency", func(t *testing.T) { presenceConcurrency(t, open) })
}
