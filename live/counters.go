package live

import (
	"context"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// Counter names carried by InstanceCounters events.
const (
	CounterTokensIssued = "tokensIssued"
	CounterAPIErrors    = "apiErrors"
)

// CounterReporter publishes this instance's counters every Interval, as the
// increase since its previous report, in an InstanceCounters event; the
// leader adds up every instance's reports (Tally) for cluster-wide totals.
type CounterReporter struct {
	Events   ivslive.EventPublisher
	Read     func() map[string]int64 // running totals of this instance
	Interval time.Duration
	Origin   string
	// Now stamps the events; nil means time.Now.
	Now func() time.Time
}

// Run reports until ctx is done, and once more on the way out so counts are
// not lost at shutdown.
func (r *CounterReporter) Run(ctx context.Context) {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	last := map[string]int64{}
	report := func() {
		totals := r.Read()
		delta := map[string]int64{}
		for k, v := range totals {
			if d := v - last[k]; d != 0 {
				delta[k] = d
			}
		}
		last = totals
		if len(delta) > 0 {
			r.Events.Publish(ivslive.Event{Type: ivslive.EventInstanceCounters, Time: now().UTC(), Counters: delta, Origin: r.Origin})
		}
	}
	tick := time.NewTicker(r.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			report()
			return
		case <-tick.C:
			report()
		}
	}
}

// Tally adds up the counters every instance reports on the bus.
type Tally struct {
	mu   sync.Mutex
	sums map[string]int64
}

// Run follows the bus until ctx is done.
func (t *Tally) Run(ctx context.Context, bus *Bus) {
	sub := bus.Subscribe(1024)
	defer func() { sub.Close() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C:
			if !ok {
				sub = bus.Subscribe(1024)
				continue
			}
			if e.Type != ivslive.EventInstanceCounters {
				continue
			}
			t.mu.Lock()
			if t.sums == nil {
				t.sums = map[string]int64{}
			}
			for k, v := range e.Counters {
				t.sums[k] += v
			}
			t.mu.Unlock()
		}
	}
}

// Take returns the sums since the previous Take and starts over.
func (t *Tally) Take() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sums
	t.sums = nil
	if s == nil {
		s = map[string]int64{}
	}
	return s
}
