package live

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// Leader keeps one instance in charge of the background jobs. It renews a
// lease every TTL/3 and believes itself leader only until its last renewal
// plus the TTL minus a margin, so a leader cut off from the lease store stops
// acting before another can take over.
type Leader struct {
	Leases ivslive.LeaseStore
	Name   string // lease name, e.g. "jobs"
	Owner  string // this instance's id
	TTL    time.Duration
	Log    *slog.Logger
	// OnChange, when set, is told when leadership is gained or lost.
	OnChange func(leader bool)
	// Now is the clock the term is measured on; nil means time.Now. Give
	// it the service's clock, so a test that moves the clock past the
	// term sees leadership lapse.
	Now func() time.Time

	mu         sync.Mutex
	token      int64
	validUntil time.Time
	leading    bool
}

// IsLeader reports whether this instance holds the lease now.
func (l *Leader) IsLeader() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading && l.now().Before(l.validUntil)
}

// Token returns the fencing token of the current term (0 when not leading).
func (l *Leader) Token() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leading {
		return 0
	}
	return l.token
}

// Run takes and renews the lease until ctx is done, then releases it so
// another instance can take over at once.
func (l *Leader) Run(ctx context.Context) {
	if l.TTL <= 0 {
		l.TTL = 5 * time.Second
	}
	tick := time.NewTicker(l.TTL / 3)
	defer tick.Stop()
	for {
		l.renew(ctx)
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := l.Leases.ReleaseLease(rctx, l.Name, l.Owner); err != nil {
				l.Log.Warn("could not release the leader lease", "err", err)
			}
			l.set(false, 0, time.Time{})
			return
		case <-tick.C:
		}
	}
}

// TryLead takes or renews the lease once and reports whether this instance
// leads now; Run keeps it afterwards.
func (l *Leader) TryLead(ctx context.Context) bool {
	if l.TTL <= 0 {
		l.TTL = 5 * time.Second
	}
	l.renew(ctx)
	return l.IsLeader()
}

func (l *Leader) renew(ctx context.Context) {
	start := l.now()
	rctx, cancel := context.WithTimeout(ctx, l.TTL/3)
	defer cancel()
	token, held, err := l.Leases.AcquireLease(rctx, l.Name, l.Owner, l.TTL)
	if err != nil {
		l.Log.Warn("leader lease renewal failed", "err", err)
		return // leadership lapses by itself at validUntil
	}
	// A quarter of the TTL is kept as margin for clock drift between us and
	// the lease store.
	l.set(held, token, start.Add(l.TTL*3/4))
}

func (l *Leader) now() time.Time {
	if l.Now == nil {
		return time.Now()
	}
	return l.Now()
}

func (l *Leader) set(held bool, token int64, until time.Time) {
	l.mu.Lock()
	changed := held != l.leading || token != l.token
	l.leading, l.token, l.validUntil = held, token, until
	l.mu.Unlock()
	if changed {
		l.Log.Info("leadership", "leader", held, "owner", l.Owner, "term", token)
		if l.OnChange != nil {
			l.OnChange(held)
		}
	}
}

// WhileLeader calls job every interval, and whenever nudges delivers (nil
// for never), as long as leader says this instance leads, until ctx is
// done: the loop of every leader job (sweeper, scaler, snapshotter,
// attendance, and the CloudWatch sends cmd wires). The job runs in the loop,
// so a job slower than interval skips ticks (the ticker drops them) instead
// of piling up.
func WhileLeader(ctx context.Context, interval time.Duration, leader interface{ IsLeader() bool }, nudges <-chan struct{}, job func(context.Context)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-nudges:
		}
		if leader.IsLeader() {
			job(ctx)
		}
	}
}
