package redis

import (
	"context"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

// RateLimiter implements ivslive.RateLimiter with GCRA in Redis
// (go-redis/redis_rate), so every instance spends the same budgets.
type RateLimiter struct {
	limiter *redis_rate.Limiter
	prefix  string
}

var _ ivslive.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter whose keys carry prefix.
func NewRateLimiter(client *goredis.Client, prefix string, opts ...Option) *RateLimiter {
	o := options(client, opts)
	rdb, ok := o.scripts.(rediser)
	if !ok {
		rdb = client
	}
	return &RateLimiter{limiter: redis_rate.NewLimiter(rdb), prefix: prefix + "ratelimit:"}
}

// rediser is what redis_rate needs of a client: scripts and Del.
type rediser interface {
	goredis.Scripter
	Del(ctx context.Context, keys ...string) *goredis.IntCmd
}

// limiterTimeout bounds a check whose caller set no deadline (an API
// request): a slow or unreachable Redis fails it fast, and the caller lets
// the request through rather than slowing it down. A caller with a deadline
// of its own (the IVS pacer, which may wait seconds for its turn) keeps it.
const limiterTimeout = 250 * time.Millisecond

// Allow implements ivslive.RateLimiter. The keys are checked at once, so
// with a Batcher they share one round trip.
func (l *RateLimiter) Allow(ctx context.Context, keys []string, limit ivslive.RateLimit) (ivslive.RateDecision, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limiterTimeout)
		defer cancel()
	}
	rl := redis_rate.Limit{Rate: limit.Requests, Burst: limit.Requests, Period: limit.Period}
	decisions := make([]ivslive.RateDecision, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := 1; i < len(keys); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			decisions[i], errs[i] = l.allow(ctx, keys[i], rl)
		}()
	}
	if len(keys) > 0 {
		decisions[0], errs[0] = l.allow(ctx, keys[0], rl)
	}
	wg.Wait()
	var d ivslive.RateDecision
	for i := range keys {
		if errs[i] != nil {
			return ivslive.RateDecision{}, errs[i]
		}
		if i == 0 {
			d = decisions[0]
		} else {
			d = ivslive.Stricter(d, decisions[i])
		}
	}
	return d, nil
}

func (l *RateLimiter) allow(ctx context.Context, key string, rl redis_rate.Limit) (ivslive.RateDecision, error) {
	res, err := l.limiter.Allow(ctx, l.prefix+key, rl)
	if err != nil {
		return ivslive.RateDecision{}, unavailable("rate limit", err)
	}
	d := ivslive.RateDecision{Allowed: res.Allowed > 0, Limit: rl.Rate, Remaining: res.Remaining, ResetAfter: res.ResetAfter}
	if !d.Allowed {
		d.RetryAfter = res.RetryAfter
	}
	return d, nil
}
