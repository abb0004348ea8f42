package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/memory"
)

func TestRateLimiterContract(t *testing.T) {
	contract.RateLimiter(t, func(*testing.T) (ivslive.RateLimiter, ivslive.RateLimiter) {
		l := memory.NewRateLimiter(nil)
		return l, l
	})
}

// TestRateLimiterForgetsIdleBuckets: buckets idle for longer than their
// period are dropped by the periodic sweeps, so memory follows the active
// keys, and a forgotten key starts again with a full budget.
func TestRateLimiterForgetsIdleBuckets(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := memory.NewRateLimiter(func() time.Time { return now })
	ctx := context.Background()
	limit := ivslive.RateLimit{Requests: 2, Period: time.Minute}
	allow := func(key string) ivslive.RateDecision {
		t.Helper()
		d, err := l.Allow(ctx, []string{key}, limit)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i := range 100 {
		allow(fmt.Sprint("old-", i))
	}
	allow("old-0")
	if d := allow("old-0"); d.Allowed {
		t.Fatal("a third request within the budget of 2 was allowed")
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("%d buckets, want 100", n)
	}
	now = now.Add(2 * time.Minute)
	for i := range 1000 {
		allow(fmt.Sprint("new-", i))
	}
	if n := l.Len(); n != 1000 {
		t.Fatalf("%d buckets after the idle ones expired, want the 1000 active", n)
	}
	if d := allow("old-0"); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("a forgotten key: %+v, want allowed with 1 left", d)
	}
}
