package app

import (
	"context"
	"fmt"
	"time"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/live"
)

// Background job timing. The lease TTL bounds how long the jobs stop when
// the leader dies (another instance takes over within about TTL plus a
// renewal); the sweep interval bounds how late a silent viewer is removed.
const (
	leaseTTL      = 5 * time.Second
	sweepInterval = time.Second
	// MaxReplicas is IVS's quota of concurrent replications per participant
	// (not adjustable), so at most this many auto-scaled stages can carry
	// the publisher.
	MaxReplicas = 5
)

// newLeader is this instance's leader election, on the core's clock.
// Bootstrap may take the lease already (to replace a master stage that is
// gone); startJobs keeps it.
func (a *App) newLeader(leases ivslive.LeaseStore) *live.Leader {
	return &live.Leader{Leases: leases, Name: "jobs", Owner: instanceID(), TTL: leaseTTL, Log: a.log, OnChange: a.metrics.SetLeader, Now: a.Live.Now}
}

// startJobs runs the leader election and the jobs only the leader runs.
func (a *App) startJobs(leader *live.Leader) {
	sweeper := &live.Sweeper{Service: a.Live, Leader: leader, Timeout: a.cfg.ViewerTimeout, Interval: sweepInterval}
	a.scaler = &live.Scaler{Service: a.Live, Leader: leader, Interval: a.cfg.ScaleInterval}
	a.Live.Nudge = a.scaler.Nudge
	snapshots := &live.Snapshotter{Service: a.Live, Leader: leader, Interval: a.cfg.SnapshotInterval,
		SnapshotRetention: days(a.cfg.SnapshotRetentionDays), SessionRetention: days(a.cfg.SessionRetentionDays)}
	attendance := &live.Attendance{Service: a.Live, Leader: leader, Source: a.participants, Interval: a.cfg.PresenceInterval}
	a.workers = append(a.workers, leader.Run, sweeper.Run, a.scaler.Run, snapshots.Run, attendance.Run)
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// finalCheckpoint runs at graceful shutdown in memory mode: the live
// sessions are saved and come back at the next start (then expire as usual
// if their viewers left meanwhile, closing at their last heartbeat). In
// Redis mode they simply stay in Redis for the other instances.
func (a *App) finalCheckpoint() {
	if a.cfg.PresenceMode() != "memory" || a.Live == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	n, err := a.Live.Checkpoint(ctx)
	if err != nil {
		a.log.Error("could not checkpoint live sessions at shutdown", "err", err, "took", time.Since(start))
		return
	}
	a.log.Info("checkpointed live sessions for the next start", "written", n, "took", time.Since(start))
}

// scalerCheck reports, in /api/health, a pool that is full and cannot grow,
// with the reason (degraded, not unhealthy: viewers already seated are fine).
func (a *App) scalerCheck() ivshttp.HealthCheck {
	return ivshttp.HealthCheck{Name: "scaler", Mode: map[bool]string{true: "auto", false: "off"}[a.cfg.AutoScaleEnabled],
		Probe: func(ctx context.Context) (map[string]any, error) {
			st, err := a.Live.Stats(ctx)
			if err != nil {
				return nil, err
			}
			info := map[string]any{"viewers": st.TotalViewers, "capacityLeft": st.CapacityLeft, "autoScaledStages": st.AutoScaled}
			if a.scaler != nil {
				status := a.scaler.Status()
				if !status.LastCheck.IsZero() {
					info["lastCheck"], info["lastAction"] = status.LastCheck.UTC().Format(time.RFC3339), status.LastAction
				}
			}
			if st.CapacityLeft == 0 && st.ScalingBlocker != "" {
				info["blocker"] = st.ScalingBlocker
				return info, ivslive.Errorf(ivslive.EUNAVAILABLE, "stage pool full: %s", st.ScalingBlocker)
			}
			return info, nil
		}}
}

// withBacklog adds the closed sessions waiting for the history store to its
// health report: how many, and how long the oldest has waited. The
// component is degraded when the oldest has waited longer than maxLag: the
// pipeline is stuck or slower than the leaves (a backlog that keeps
// growing), even while the database answers pings. Its own failure comes
// first: a database that does not answer is down.
func withBacklog(check ivshttp.HealthCheck, q queue, maxLag time.Duration, now func() time.Time) ivshttp.HealthCheck {
	if q == nil {
		return check
	}
	probe := check.Probe
	check.Probe = func(ctx context.Context) (map[string]any, error) {
		info := map[string]any{}
		n, err := q.Backlog(ctx)
		if err != nil {
			info["backlog"] = fmt.Sprintf("unknown: %v", ivslive.ErrorMessage(err))
		} else {
			info["backlog"] = n
		}
		var lag time.Duration
		oldest, err := q.Oldest(ctx)
		if err == nil && !oldest.IsZero() {
			lag = max(now().Sub(oldest), 0)
			info["oldestAgeSeconds"] = lag.Seconds()
		}
		if _, err := probe(ctx); err != nil {
			return info, err
		}
		if lag > maxLag {
			return info, ivshttp.Degraded(ivslive.Errorf(ivslive.EUNAVAILABLE,
				"closed sessions wait for the history store: the oldest for %s (HISTORY_MAX_LAG %s)", lag.Round(time.Second), maxLag))
		}
		return info, nil
	}
	return check
}
