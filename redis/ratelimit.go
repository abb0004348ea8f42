package redis

import (
	"context"

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
func NewRateLimiter(client *goredis.Client, prefix string) *RateLimiter {
	return &RateLimiter{limiter: redis_rate.NewLimiter(client), prefix: prefix + "ratelimit:"}
}

// Allow implements ivslive.RateLimiter.
func (l *RateLimiter) Allow(ctx context.Context, key string, limit ivslive.RateLimit) (ivslive.RateDecision, error) {
	res, err := l.limiter.Allow(ctx, l.prefix+key, redis_rate.Limit{Rate: limit.Requests, Burst: limit.Requests, Period: limit.Period})
	if err != nil {
		return ivslive.RateDecision{}, unavailable("rate limit", err)
	}
	d := ivslive.RateDecision{Allowed: res.Allowed > 0, Limit: limit.Requests, Remaining: res.Remaining, ResetAfter: res.ResetAfter}
	if !d.Allowed {
		d.RetryAfter = res.RetryAfter
	}
	return d, nil
}
