package live_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

// scripted is a ParticipantSource that answers what the test says.
type scripted struct {
	mu sync.Mutex
	ps map[string][]ivslive.Participant
}

func (s *scripted) set(stage string, ps ...ivslive.Participant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ps = map[string][]ivslive.Participant{stage: ps}
}

func (s *scripted) StageParticipants(_ context.Context, stage string) ([]ivslive.Participant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ps[stage], nil
}

func (s *scripted) Changed() <-chan struct{} { return nil }

// A viewer whose participant connected and left is closed once, even by two
// overlapping rounds (two leaders for a moment), at the time IVS saw it
// leave, with one viewer.left webhook saying disconnected. A viewer whose
// participant never connected, and one without a participant at all, stay:
// they count as drift. Counts older than their freshness are not shown.
// Both presence twins.
func TestAttendanceClosesOnceAtIVSTime(t *testing.T) {
	apitest.Twins(t, attendanceClosesOnce)
}

func attendanceClosesOnce(t *testing.T, presence apitest.PresenceFunc) {
	// Redis expires the publisher on its own clock: start at the real time.
	clock := apitest.NewClock(time.Now().UTC().Truncate(time.Millisecond))
	env := apitest.New(t, apitest.Options{Clock: clock, Presence: presence, Live: func(c *live.Config) { c.AttendanceInterval = 2 * time.Second }})
	hooks := &published{}
	env.Live.Webhooks = hooks
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	pid := map[string]string{}
	for _, u := range []string{"gone", "refused", "watching", "http-only"} {
		var v struct{ ParticipantID string }
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": u}).Decode(t, &v)
		pid[u] = v.ParticipantID
	}
	joined := clock.Now()
	clock.Add(time.Minute)
	master := env.Live.MasterARN()
	src := &scripted{}
	src.set(master,
		ivslive.Participant{ID: "host-pid", Connected: true, Published: true, FirstJoinTime: joined},
		ivslive.Participant{ID: pid["gone"], FirstJoinTime: joined, LeftAt: joined.Add(30 * time.Second)},
		ivslive.Participant{ID: pid["refused"]}, // a join that never connected
		ivslive.Participant{ID: pid["watching"], Connected: true, FirstJoinTime: joined},
	)
	hooks.take("") // forget the joins

	a := &live.Attendance{Service: env.Live, Leader: alwaysLeader{}, Source: src, Interval: 2 * time.Second}
	var wg sync.WaitGroup
	closed := make([][]ivslive.ClosedSession, 2)
	for i := range closed {
		wg.Add(1)
		go func() { defer wg.Done(); closed[i] = a.Reconcile(context.Background()) }()
	}
	wg.Wait()
	if n := len(closed[0]) + len(closed[1]); n != 1 {
		t.Fatalf("two rounds closed %d sessions, want 1: %+v", n, closed)
	}
	rec := env.Recorded(t)
	if len(rec) != 1 || rec[0].UserID != "gone" || rec[0].Reason != ivslive.EndDisconnected || rec[0].WatchDuration() != 30*time.Second {
		t.Fatalf("recorded %+v, want gone's session, disconnected after 30 s", rec)
	}
	left := hooks.take(ivslive.EventViewerLeft)
	if len(left) != 1 || left[0].UserID != "gone" || left[0].Reason != "disconnected" || left[0].Viewers == nil || *left[0].Viewers != 3 {
		t.Fatalf("viewer.left webhooks: %+v, want one for gone, disconnected, 3 left", left)
	}

	st, err := env.Live.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.TotalViewers != 3 || st.IVSConnected == nil || *st.IVSConnected != 1 || *st.Drift != 2 {
		t.Fatalf("stats: %d viewers, IVS %v, drift %v; want 3, 1, 2", st.TotalViewers, st.IVSConnected, st.Drift)
	}
	clock.Add(31 * time.Second) // past max(3 × interval, 30 s)
	if st, _ := env.Live.Stats(context.Background()); st.IVSConnected != nil || st.Stages[0].IVSConnected != nil {
		t.Fatalf("a stale IVS count is shown: %v", *st.IVSConnected)
	}
}

// listingIVS serves GetStage and ListParticipants from a script.
type listingIVS struct {
	ivslive.IVS
	active   string
	sessions map[string][]ivslive.Participant
	listed   []string
}

func (l *listingIVS) GetStage(_ context.Context, arn string) (ivslive.Stage, error) {
	return ivslive.Stage{ARN: arn, ActiveSessionID: l.active}, nil
}

func (l *listingIVS) ListParticipants(_ context.Context, _, session string, _ ivslive.ParticipantFilter) ([]ivslive.Participant, error) {
	l.listed = append(l.listed, session)
	return l.sessions[session], nil
}

// Polled, a stage whose session changed between rounds has its previous
// session listed once more: whoever was in it left when it ended, and a
// participant found in both takes the newer record.
func TestListedParticipantsFollowASessionChange(t *testing.T) {
	const arn = "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	ivs := &listingIVS{active: "s1", sessions: map[string][]ivslive.Participant{
		"s1": {{ID: "a", Connected: true}, {ID: "b", Connected: true}},
	}}
	src := &live.ListedParticipants{IVS: ivs}
	ps, err := src.StageParticipants(context.Background(), arn)
	if err != nil || len(ps) != 2 {
		t.Fatalf("first round: %+v, %v", ps, err)
	}
	ivs.active = "s2"
	ivs.sessions["s1"] = []ivslive.Participant{{ID: "a"}, {ID: "b"}}
	ivs.sessions["s2"] = []ivslive.Participant{{ID: "b", Connected: true}}
	ps, err = src.StageParticipants(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range ps {
		got[p.ID] = p.Connected
	}
	if len(ps) != 2 || got["a"] || !got["b"] {
		t.Fatalf("after the session changed: %+v, want a left (old session), b connected (new one)", ps)
	}
	src.StageParticipants(context.Background(), arn)
	if want := []string{"s1", "s1", "s2", "s2"}; len(ivs.listed) != len(want) || ivs.listed[1] != "s1" || ivs.listed[3] != "s2" {
		t.Fatalf("sessions listed %v, want %v", ivs.listed, want)
	}
}
