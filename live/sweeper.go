package live

import (
	"context"
	"time"

	"github.com/ivslive/ivslive"
)

// Sweeper closes the sessions of viewers who stopped sending heartbeats. It
// runs on the leader only, every Interval, so a silent viewer is gone within
// Timeout plus one Interval, closed as a timeout at its last-seen time.
type Sweeper struct {
	Service  *Service
	Leader   interface{ IsLeader() bool }
	Timeout  time.Duration // VIEWER_TIMEOUT
	Interval time.Duration
	// Batch bounds how many sessions one store call closes.
	Batch int
}

// Run sweeps until ctx is done.
func (w *Sweeper) Run(ctx context.Context) {
	WhileLeader(ctx, w.Interval, w.Leader, nil, func(ctx context.Context) { w.Sweep(ctx) })
}

// Sweep expires every viewer silent for longer than Timeout, in batches.
func (w *Sweeper) Sweep(ctx context.Context) int {
	batch := w.Batch
	if batch <= 0 {
		batch = 10000
	}
	if err := w.Service.EnsurePresence(ctx); err != nil {
		w.Service.Log.Warn("presence check failed", "err", err)
		return 0
	}
	start := w.Service.now() // the work's duration, logged for load tests
	cutoff := start.Add(-w.Timeout)
	total := w.sweep(ctx, w.Service.Presence, cutoff, batch)
	if p := w.Service.Playback; p != nil {
		total += w.sweep(ctx, p.Presence, cutoff, batch)
	}
	if total > 0 {
		w.Service.Log.Info("expired silent viewers", "count", total, "timeout", w.Timeout, "took", w.Service.now().Sub(start))
	}
	return total
}

// sweep expires one presence store's silent viewers.
func (w *Sweeper) sweep(ctx context.Context, store ivslive.PresenceStore, cutoff time.Time, batch int) int {
	total := 0
	for {
		closed, err := store.Expire(ctx, cutoff, batch)
		if err != nil {
			w.Service.Log.Warn("expiry failed; retrying next sweep", "err", err)
			return total
		}
		total += len(closed)
		w.Service.emitClosed(ctx, closed, ivslive.EndTimeout)
		if len(closed) < batch {
			return total
		}
	}
}
