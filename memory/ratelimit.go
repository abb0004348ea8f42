package memory

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ivslive/ivslive"
)

// RateLimiter implements ivslive.RateLimiter for one process with a token
// bucket per key. Buckets untouched for longer than their period are full
// again and are forgotten, so memory follows the active keys.
type RateLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	buckets map[string]*bucket
	calls   int
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
	per  time.Duration
}

var _ ivslive.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter on the clock now (nil for time.Now).
func NewRateLimiter(now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	return &RateLimiter{now: now, buckets: map[string]*bucket{}}
}

// Allow implements ivslive.RateLimiter.
func (l *RateLimiter) Allow(_ context.Context, keys []string, limit ivslive.RateLimit) (ivslive.RateDecision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var d ivslive.RateDecision
	for i, key := range keys {
		one := l.allow(now, key, limit)
		if i == 0 {
			d = one
		} else {
			d = ivslive.Stricter(d, one)
		}
	}
	return d, nil
}

func (l *RateLimiter) allow(now time.Time, key string, limit ivslive.RateLimit) ivslive.RateDecision {
	l.calls++
	if l.calls%10000 == 0 {
		l.sweep(now)
	}
	every := limit.Period / time.Duration(limit.Requests)
	b, ok := l.buckets[key]
	if !ok || b.lim.Burst() != limit.Requests || b.per != limit.Period {
		b = &bucket{lim: rate.NewLimiter(rate.Every(every), limit.Requests), per: limit.Period}
		l.buckets[key] = b
	}
	b.last = now
	d := ivslive.RateDecision{Limit: limit.Requests}
	// AllowN, not ReserveN: a reservation is an allocation per request.
	if b.lim.AllowN(now, 1) {
		d.Allowed = true
	}
	tokens := b.lim.TokensAt(now)
	if !d.Allowed {
		d.RetryAfter = time.Duration((1 - tokens) * float64(every))
	}
	d.Remaining = max(int(tokens), 0)
	d.ResetAfter = time.Duration((float64(limit.Requests) - tokens) * float64(every))
	return d
}

// sweep forgets buckets idle for longer than their period: they are full.
func (l *RateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.last) > b.per {
			delete(l.buckets, k)
		}
	}
}
