package ivslive

import (
	"context"
	"time"
)

// RateLimit is a budget: Requests per Period, with bursts up to Requests
// (GCRA, a smooth token bucket).
type RateLimit struct {
	Requests int
	Period   time.Duration
}

// RateDecision is the outcome of one request against a budget.
type RateDecision struct {
	Allowed   bool
	Limit     int
	Remaining int
	// RetryAfter is how long to wait before the next request is allowed
	// (zero when allowed); ResetAfter until the budget is full again.
	RetryAfter time.Duration
	ResetAfter time.Duration
}

// RateLimiter spends one request of each key's budget (a request counts
// against its client address and its key) and returns the most restrictive
// decision. Implemented by memory (one process, golang.org/x/time/rate) and
// redis (shared by every instance, GCRA in Redis).
type RateLimiter interface {
	Allow(ctx context.Context, keys []string, limit RateLimit) (RateDecision, error)
}

// Stricter returns the more restrictive of two decisions: a refusal over an
// allowance, else the one with fewer requests remaining.
func Stricter(a, b RateDecision) RateDecision {
	switch {
	case !a.Allowed && !b.Allowed:
		if b.RetryAfter > a.RetryAfter {
			return b
		}
		return a
	case !a.Allowed:
		return a
	case !b.Allowed:
		return b
	case b.Remaining < a.Remaining:
		return b
	}
	return a
}
