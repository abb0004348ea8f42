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

// RateLimiter spends one request of key's budget. Implemented by memory (one
// process, golang.org/x/time/rate) and redis (shared by every instance,
// GCRA in Redis).
type RateLimiter interface {
	Allow(ctx context.Context, key string, limit RateLimit) (RateDecision, error)
}
