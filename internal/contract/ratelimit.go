package contract

import (
	"context"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
)

// RateLimiter runs the rate-limiter contract. open returns two limiters that
// share their budgets (two instances on one Redis; one and the same memory
// limiter).
func RateLimiter(t *testing.T, open func(t *testing.T) (a, b ivslive.RateLimiter)) {
	ctx := context.Background()
	limit := ivslive.RateLimit{Requests: 5, Period: time.Minute}

	t.Run("budget, remaining and retry-after", func(t *testing.T) {
		a, _ := open(t)
		for i := 0; i < 5; i++ {
			d, err := a.Allow(ctx, []string{"ip:192.0.2.1"}, limit)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allowed || d.Limit != 5 || d.Remaining != 4-i {
				t.Fatalf("request %d: %+v", i+1, d)
			}
		}
		d, _ := a.Allow(ctx, []string{"ip:192.0.2.1"}, limit)
		if d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 || d.RetryAfter > 12*time.Second+time.Second {
			t.Fatalf("sixth request: %+v, want refused with a retry within one interval (12 s)", d)
		}
		if d, _ := a.Allow(ctx, []string{"ip:192.0.2.2"}, limit); !d.Allowed || d.Remaining != 4 {
			t.Fatalf("another key was affected: %+v", d)
		}
	})

	t.Run("every key spends, the strictest decides", func(t *testing.T) {
		a, _ := open(t)
		small := ivslive.RateLimit{Requests: 2, Period: time.Minute}
		for i := 0; i < 2; i++ {
			if d, err := a.Allow(ctx, []string{"ip:x", "key:k"}, small); err != nil || !d.Allowed {
				t.Fatalf("request %d: %+v %v", i+1, d, err)
			}
		}
		// key:k is spent; a request from another address with it is refused,
		// and that refusal still spent ip:y's budget.
		if d, _ := a.Allow(ctx, []string{"ip:y", "key:k"}, small); d.Allowed || d.RetryAfter <= 0 {
			t.Fatalf("spent key allowed: %+v", d)
		}
		if d, _ := a.Allow(ctx, []string{"ip:y"}, small); !d.Allowed || d.Remaining != 0 {
			t.Fatalf("ip:y after one spent request: %+v", d)
		}
	})

	t.Run("instances share the budget", func(t *testing.T) {
		a, b := open(t)
		allowed := 0
		for i := 0; i < 10; i++ {
			l := a
			if i%2 == 1 {
				l = b
			}
			d, err := l.Allow(ctx, []string{"key:web"}, limit)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				allowed++
			}
		}
		if allowed != 5 {
			t.Fatalf("%d requests allowed across two instances, want the budget of 5", allowed)
		}
	})
}
