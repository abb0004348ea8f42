package live

import (
	"context"
	"time"

	"github.com/ivslive/ivslive"
)

// Attendance makes presence follow IVS. On the leader, after every change
// the source pushes and every Interval, it reads each stage's participants
// from IVS and:
//   - closes, as disconnected, the session of every viewer whose
//     participant connected and then left, at the time IVS saw it leave;
//   - records IVS's connected count per stage, shown beside the heartbeat
//     count (their difference is the drift) by every instance.
//
// A viewer who heartbeats but never connected over WebRTC is not closed:
// the Node contract allows presence without media, so it shows as drift
// instead. Closing is store-atomic (Leave by session id), so a session is
// closed once even if two leaders overlap.
type Attendance struct {
	Service  *Service
	Leader   interface{ IsLeader() bool }
	Source   ivslive.ParticipantSource
	Interval time.Duration
}

// attendanceGap is the least time between two rounds: a burst of joins
// pushes many wake-ups, and one round after the burst sees them all.
const attendanceGap = 200 * time.Millisecond

// Run reconciles until ctx is done. After a round it rests at least as
// long as the round took: polled, a round waits on IVS's 5 TPS (shared with
// the scaler and every instance), so with many stages attendance takes at
// most about half of that budget instead of all of it.
func (a *Attendance) Run(ctx context.Context) {
	WhileLeader(ctx, a.Interval, a.Leader, a.Source.Changed(), func(ctx context.Context) {
		// The round is timed on the runtime's monotonic clock, not the
		// service's Now: the rest is a wait on the runtime's timers (which
		// testing/synctest fakes together with it), and IVS's TPS budget is
		// real time. A test's settable clock may jump hours during a round,
		// which must not turn a 200 ms rest into hours.
		start := time.Now()
		a.Reconcile(ctx)
		select { // coalesce the next wake-ups
		case <-ctx.Done():
		case <-time.After(max(attendanceGap, time.Since(start))):
		}
	})
}

// Reconcile runs one round over every known stage and returns the sessions
// it closed.
func (a *Attendance) Reconcile(ctx context.Context) []ivslive.ClosedSession {
	s := a.Service
	loads, err := s.Presence.Loads(ctx)
	if err != nil {
		s.Log.Warn("attendance: presence unavailable", "err", err)
		return nil
	}
	var closed []ivslive.ClosedSession
	counts := make([]ivslive.IVSCount, 0, len(loads))
	for _, l := range loads {
		ps, err := a.Source.StageParticipants(ctx, l.ARN)
		if err != nil {
			// The stage keeps no count this round: stale beats wrong.
			s.Log.Warn("attendance: participants unavailable", "stage", l.ARN, "err", err)
			continue
		}
		counts = append(counts, ivslive.IVSCount{StageARN: l.ARN, Connected: connectedViewers(ps), At: s.now()})
		if l.Viewers > 0 {
			closed = append(closed, a.closeLeft(ctx, l.ARN, ps)...)
		}
	}
	if err := s.Presence.SetIVSCounts(ctx, counts); err != nil {
		s.Log.Warn("attendance: could not store IVS counts", "err", err)
	}
	s.emitClosed(ctx, closed, ivslive.EndDisconnected)
	if len(closed) > 0 {
		s.Log.Info("closed viewers IVS saw leave", "count", len(closed))
	}
	return closed
}

// connectedViewers counts the participants IVS has CONNECTED that are
// viewers: neither a publisher (the host, a media server) nor a replica.
func connectedViewers(ps []ivslive.Participant) int {
	n := 0
	for _, p := range ps {
		if p.Connected && !p.Published && !p.Replica {
			n++
		}
	}
	return n
}

// closeLeft closes the sessions of a stage whose participant connected and
// is now DISCONNECTED.
func (a *Attendance) closeLeft(ctx context.Context, arn string, ps []ivslive.Participant) []ivslive.ClosedSession {
	s := a.Service
	gone := map[string]ivslive.Participant{}
	for _, p := range ps {
		// Never connected (a refused join, or not yet): not a leave.
		if !p.Connected && !p.FirstJoinTime.IsZero() {
			gone[p.ID] = p
		}
	}
	if len(gone) == 0 {
		return nil
	}
	viewers, err := s.Presence.Viewers(ctx, arn)
	if err != nil {
		s.Log.Warn("attendance: viewers unavailable", "stage", arn, "err", err)
		return nil
	}
	var closed []ivslive.ClosedSession
	for _, v := range viewers {
		p, ok := gone[v.ParticipantID]
		if !ok {
			continue
		}
		left := p.LeftAt
		if left.IsZero() { // polled: IVS does not say when; now is at most one round late
			left = s.now()
		}
		c, err := s.Presence.Leave(ctx, ivslive.LeaveRequest{StageARN: arn, UserID: v.UserID, SessionID: v.ID, Now: left, Reason: ivslive.EndDisconnected})
		switch ivslive.ErrorCode(err) {
		case "":
			closed = append(closed, c)
		case ivslive.ENOTFOUND: // left, expired or replaced meanwhile
		default:
			s.Log.Warn("attendance: could not close a disconnected viewer", "session", v.ID, "err", err)
		}
	}
	return closed
}

// ivsCountMaxAge is the oldest IVS count Stats shows. Attendance rewrites
// the counts every AttendanceInterval (and on every push), so an older
// one means no leader has looked since: better unknown than wrong.
func (s *Service) ivsCountMaxAge() time.Duration {
	return max(3*s.Config.AttendanceInterval, 30*time.Second)
}

// freshIVSCounts returns the stored IVS counts young enough to show, by
// stage ARN.
func (s *Service) freshIVSCounts(ctx context.Context) (map[string]int, error) {
	counts, err := s.Presence.IVSCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(counts))
	oldest := s.now().Add(-s.ivsCountMaxAge())
	for _, c := range counts {
		if !c.At.Before(oldest) {
			out[c.StageARN] = c.Connected
		}
	}
	return out, nil
}

// addAttendance fills a stage's IVS count and viewers without the host, and
// adds them to the totals.
func (s *Service) addAttendance(st *Stats, v *StageView, ivs map[string]int) {
	if n, ok := ivs[v.ARN]; ok {
		v.IVSConnected = &n
		st.IVSConnected = addTo(st.IVSConnected, n)
		st.Drift = addTo(st.Drift, *v.Drift())
	}
}

// countWithoutHost counts the viewers seated on stages the host's media
// does not reach (a replica stage that lost its replication, a hand-made
// stage, the master while the host is not publishing).
func countWithoutHost(st *Stats) {
	for i := range st.Stages {
		v := &st.Stages[i]
		n := 0
		if !v.HostMedia {
			n = v.Viewers
		}
		v.WithoutHost = &n
		st.WithoutHost = addTo(st.WithoutHost, n)
	}
}

func addTo(sum *int, n int) *int {
	if sum != nil {
		n += *sum
	}
	return &n
}
