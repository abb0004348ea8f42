package live_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/memory"
)

// A leader believes itself leader only until its last renewal plus three
// quarters of the TTL, on its own clock.
func TestLeaderLapsesOnItsClock(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	l := &live.Leader{Leases: memory.NewLeases(clock.Now), Name: "jobs", Owner: "a", TTL: 4 * time.Second,
		Log: slog.New(slog.DiscardHandler), Now: clock.Now}
	if !l.TryLead(context.Background()) {
		t.Fatal("the only instance did not lead")
	}
	clock.Add(3*time.Second - time.Millisecond)
	if !l.IsLeader() {
		t.Fatal("leadership lapsed before three quarters of the TTL")
	}
	clock.Add(time.Millisecond)
	if l.IsLeader() {
		t.Fatal("still leading three quarters of the TTL after the last renewal")
	}
}

// cutLeases is a lease store this instance can be cut off from.
type cutLeases struct {
	ivslive.LeaseStore
	cut atomic.Bool
}

func (c *cutLeases) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	if c.cut.Load() {
		return 0, false, errors.New("lease store unreachable")
	}
	return c.LeaseStore.AcquireLease(ctx, name, owner, ttl)
}

// A leader cut off from the lease store stops leading before another
// instance takes over, and the other takes over within a TTL and a
// renewal. The bubble's clock is the only clock: every step is exact.
func TestLeaderCutOffHandsOverWithoutOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 3 * time.Second
		leases := memory.NewLeases(nil) // time.Now is the bubble's clock
		cutA := &cutLeases{LeaseStore: leases}
		log := slog.New(slog.DiscardHandler)
		a := &live.Leader{Leases: cutA, Name: "jobs", Owner: "a", TTL: ttl, Log: log}
		b := &live.Leader{Leases: leases, Name: "jobs", Owner: "b", TTL: ttl, Log: log}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go a.Run(ctx)
		synctest.Wait()
		go b.Run(ctx)
		synctest.Wait()
		if !a.IsLeader() || b.IsLeader() {
			t.Fatalf("a=%v b=%v, want a leading", a.IsLeader(), b.IsLeader())
		}
		termA := a.Token()

		cutA.cut.Store(true)
		cutAt := time.Now()
		var took time.Duration
		for took == 0 && time.Since(cutAt) < 10*ttl {
			time.Sleep(50 * time.Millisecond) // the bubble's clock: returns once every goroutine waits
			synctest.Wait()
			if a.IsLeader() && b.IsLeader() {
				t.Fatalf("%v after the cut both a and b believe they lead", time.Since(cutAt))
			}
			if b.IsLeader() {
				took = time.Since(cutAt)
			}
		}
		if took == 0 || took > ttl+ttl/3 {
			t.Fatalf("b took over %v after a was cut off, want within the TTL and a renewal (%v)", took, ttl+ttl/3)
		}
		if b.Token() <= termA {
			t.Fatalf("b's term %d, want newer than a's %d", b.Token(), termA)
		}
		cancel()
		synctest.Wait()
	})
}

// leaderFunc reports leadership from a function.
type leaderFunc func() bool

func (f leaderFunc) IsLeader() bool { return f() }

// WhileLeader runs the job on every tick and nudge while leading, nothing
// while following, and never two at once however slow the job is.
func TestWhileLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var leading atomic.Bool
		var calls, running, most atomic.Int32
		slow := atomic.Bool{}
		nudges := make(chan struct{}, 1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			live.WhileLeader(ctx, time.Second, leaderFunc(leading.Load), nudges, func(context.Context) {
				n := running.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				calls.Add(1)
				if slow.Load() {
					time.Sleep(2500 * time.Millisecond) // a slow job, on the bubble's clock
				}
				running.Add(-1)
			})
		}()
		step := func(d time.Duration) {
			time.Sleep(d) // the bubble's clock: returns once every goroutine waits
			synctest.Wait()
		}

		step(10*time.Second + time.Millisecond)
		if n := calls.Load(); n != 0 {
			t.Fatalf("a follower ran the job %d times, want 0", n)
		}
		leading.Store(true)
		step(3 * time.Second)
		if n := calls.Load(); n != 3 {
			t.Fatalf("a leader ran the job %d times in 3 ticks, want 3", n)
		}
		nudges <- struct{}{}
		synctest.Wait()
		if n := calls.Load(); n != 4 {
			t.Fatalf("a nudge ran the job %d times, want once more (4)", n)
		}

		slow.Store(true)
		before := calls.Load()
		step(10 * time.Second)
		if n := calls.Load() - before; n < 3 || n > 5 {
			t.Errorf("a job of 2.5 s ran %d times in 10 s of 1 s ticks, want 3 to 5 (ticks dropped, not queued)", n)
		}
		if m := most.Load(); m != 1 {
			t.Errorf("%d jobs ran at once, want 1", m)
		}
		cancel()
		<-done
	})
}
