package live

import (
	"context"
	"time"

	"github.com/ivslive/ivslive"
)

// Snapshotter keeps history: on the leader, every Interval it writes one
// snapshot per managed stage and one for the total, and copies the live
// sessions into a checkpoint; once a day it deletes what is past retention.
type Snapshotter struct {
	Service  *Service
	Leader   interface{ IsLeader() bool }
	Interval time.Duration // SNAPSHOT_INTERVAL
	// SnapshotRetention and SessionRetention are how long snapshots and
	// session records (and dead letters) are kept; zero keeps them forever.
	SnapshotRetention time.Duration
	SessionRetention  time.Duration

	lastRetention time.Time
}

// Run works until ctx is done.
func (j *Snapshotter) Run(ctx context.Context) {
	WhileLeader(ctx, j.Interval, j.Leader, nil, j.pass)
}

// pass is one leader tick: snapshot, checkpoint, and retention once a day.
func (j *Snapshotter) pass(ctx context.Context) {
	// The durations are logged so a load test can line request latency up
	// with the background work (ivslive loadtest --serve reads them).
	t := j.Service.now()
	if err := j.Snapshot(ctx); err != nil {
		j.Service.Log.Warn("snapshot failed", "err", err)
	}
	snapshot := j.Service.now().Sub(t)
	t = j.Service.now()
	if n, err := j.Service.Checkpoint(ctx); err != nil {
		j.Service.Log.Warn("checkpoint failed", "err", err)
	} else {
		j.Service.Log.Info("checkpoint written", "rows", n, "took", j.Service.now().Sub(t), "snapshotTook", snapshot)
	}
	if now := j.Service.now(); now.Sub(j.lastRetention) >= 24*time.Hour {
		if err := j.Retain(ctx); err != nil {
			j.Service.Log.Warn("retention failed", "err", err)
		} else {
			j.lastRetention = now
		}
	}
}

// Snapshot writes the viewer count of every managed stage and the total, at
// the current time.
func (j *Snapshotter) Snapshot(ctx context.Context) error {
	st, err := j.Service.Stats(ctx)
	if err != nil {
		return err
	}
	now := j.Service.now().Truncate(time.Second)
	snaps := make([]ivslive.Snapshot, 0, len(st.Stages)+1)
	for _, v := range st.Stages {
		snaps = append(snaps, ivslive.Snapshot{StageARN: v.ARN, Time: now, Viewers: v.Viewers})
	}
	snaps = append(snaps, ivslive.Snapshot{StageARN: ivslive.TotalStageARN, Time: now, Viewers: st.TotalViewers})
	return j.Service.History.SaveSnapshots(ctx, snaps)
}

// Retain deletes snapshots and sessions past their retention.
func (j *Snapshotter) Retain(ctx context.Context) error {
	now := j.Service.now()
	if j.SnapshotRetention > 0 {
		n, err := j.Service.History.DeleteSnapshotsBefore(ctx, now.Add(-j.SnapshotRetention))
		if err != nil {
			return err
		}
		j.Service.Log.Info("retention: deleted old snapshots", "rows", n, "keep", j.SnapshotRetention)
	}
	if j.SessionRetention > 0 {
		n, err := j.Service.History.DeleteSessionsBefore(ctx, now.Add(-j.SessionRetention))
		if err != nil {
			return err
		}
		j.Service.Log.Info("retention: deleted old sessions", "rows", n, "keep", j.SessionRetention)
		// Dead letters are viewing records too (user ids, addresses).
		if n, err = j.Service.History.DeleteDeadLettersBefore(ctx, now.Add(-j.SessionRetention)); err != nil {
			return err
		}
		j.Service.Log.Info("retention: deleted old dead letters", "rows", n, "keep", j.SessionRetention)
	}
	return nil
}
