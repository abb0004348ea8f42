package memory

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// RateLimiter implements ivslive.RateLimiter for one process with a token
// bucket per key. Buckets untouched for longer than their period are full
// again and are forgotten, so memory follows the active keys.
//
// With a budget per viewer session there are as many buckets as viewers (a
// million in a big broadcast), so the buckets are spread over shards, each
// with its own lock, and each shard forgets its idle buckets at most once a
// sweepEvery: a sweep is a pass over the shard, never over everything, and
// never on every request.
type RateLimiter struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [limiterShards]limiterShard
}

const (
	limiterShards = 32
	sweepEvery    = time.Minute
)

type limiterShard struct {
	mu        sync.Mutex
	buckets   map[string]bucket
	lastSweep time.Time
}

// bucket is one key's token bucket, held by value in the shard's map: a
// session token's heartbeat budget is one per live viewer, so its size is
// per-viewer memory (about 180 B with the key and the map slot; it was 248
// B as a *rate.Limiter behind a pointer).
type bucket struct {
	tokens float64 // at last
	last   int64   // unix nanoseconds of the last request, when tokens was counted
	per    time.Duration
	burst  int
}

var _ ivslive.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter on the clock now (nil for time.Now).
func NewRateLimiter(now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	l := &RateLimiter{now: now, seed: maphash.MakeSeed()}
	start := now()
	for i := range l.shards {
		l.shards[i].buckets = map[string]bucket{}
		l.shards[i].lastSweep = start
	}
	return l
}

// Allow implements ivslive.RateLimiter.
func (l *RateLimiter) Allow(_ context.Context, keys []string, limit ivslive.RateLimit) (ivslive.RateDecision, error) {
	now := l.now()
	var d ivslive.RateDecision
	for i, key := range keys {
		sh := &l.shards[maphash.String(l.seed, key)%limiterShards]
		sh.mu.Lock()
		one := sh.allow(now, key, limit)
		sh.mu.Unlock()
		if i == 0 {
			d = one
		} else {
			d = ivslive.Stricter(d, one)
		}
	}
	return d, nil
}

func (sh *limiterShard) allow(now time.Time, key string, limit ivslive.RateLimit) ivslive.RateDecision {
	if now.Sub(sh.lastSweep) >= sweepEvery {
		sh.sweep(now)
	}
	every := limit.Period / time.Duration(limit.Requests)
	at := now.UnixNano()
	b, ok := sh.buckets[key]
	if !ok || b.burst != limit.Requests || b.per != limit.Period {
		b = bucket{tokens: float64(limit.Requests), last: at, per: limit.Period, burst: limit.Requests}
	}
	if elapsed := at - b.last; elapsed > 0 {
		b.tokens = min(float64(b.burst), b.tokens+float64(elapsed)/float64(every))
		b.last = at
	}
	d := ivslive.RateDecision{Limit: limit.Requests}
	if b.tokens >= 1 {
		b.tokens--
		d.Allowed = true
	}
	sh.buckets[key] = b
	tokens := b.tokens
	if !d.Allowed {
		d.RetryAfter = time.Duration((1 - tokens) * float64(every))
	}
	d.Remaining = max(int(tokens), 0)
	d.ResetAfter = time.Duration((float64(limit.Requests) - tokens) * float64(every))
	return d
}

// sweep forgets the shard's buckets idle for longer than their period:
// they are full.
func (sh *limiterShard) sweep(now time.Time) {
	sh.lastSweep = now
	for k, b := range sh.buckets {
		if time.Duration(now.UnixNano()-b.last) > b.per {
			delete(sh.buckets, k)
		}
	}
}

// Len returns how many buckets the limiter holds (for tests).
func (l *RateLimiter) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}
