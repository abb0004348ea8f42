package http

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ivslive/ivslive"
)

// limiterTimeout bounds a rate-limit check: a slow or unreachable Redis lets
// requests through (fail open) rather than slowing every request down.
const limiterTimeout = 250 * time.Millisecond

// rateLimit spends the request's budgets before anything else runs (as the
// Node server did, failed authentications count too): one per client
// address and one per key (or session), the heartbeat route from its own,
// larger budget so viewers are never throttled by a few busy admins.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	var lastLog atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Limiter == nil || !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		budget, limit := "api", s.Config.RateLimit
		if r.URL.Path == "/api/viewer/heartbeat" {
			budget, limit = "heartbeat", s.Config.HeartbeatLimit
		}
		if limit.Requests <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		keys := []string{budget + ":ip:" + s.clientIP(r)}
		if who := s.identify(r); who != "" {
			keys = append(keys, budget+":"+who)
		}
		ctx, cancel := context.WithTimeout(r.Context(), limiterTimeout)
		defer cancel()
		var worst ivslive.RateDecision
		for i, k := range keys {
			d, err := s.Limiter.Allow(ctx, k, limit)
			if err != nil {
				if s.OnLimiterError != nil {
					s.OnLimiterError()
				}
				if now := time.Now().Unix(); lastLog.Swap(now) != now {
					s.Log.Warn("rate limiter unavailable; letting requests through", "err", err)
				}
				next.ServeHTTP(w, r)
				return
			}
			if i == 0 || !d.Allowed || (worst.Allowed && d.Remaining < worst.Remaining) {
				worst = d
			}
			if !d.Allowed {
				break
			}
		}
		h := w.Header()
		h.Set("RateLimit-Policy", strconv.Itoa(limit.Requests)+";w="+strconv.Itoa(int(limit.Period/time.Second)))
		h.Set("RateLimit-Limit", strconv.Itoa(worst.Limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(worst.Remaining))
		h.Set("RateLimit-Reset", RetryAfter(worst.ResetAfter).Seconds())
		if !worst.Allowed {
			if s.OnRateLimit != nil {
				s.OnRateLimit(budget)
			}
			s.Error(w, r, ivslive.Errorf(ivslive.ERATELIMIT, "請求過於頻繁，請稍後再試").WithDetails(RetryAfter(worst.RetryAfter)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// identify names who a request is for rate limiting: a valid key's name or
// a valid session token's session; "" when it is neither (the address
// budget still applies).
func (s *Server) identify(r *http.Request) string {
	if key := r.Header.Get("X-Api-Key"); key != "" {
		if p, ok := s.lookupKey(key); ok {
			return "key:" + p.Name
		}
		return ""
	}
	if c, ok := s.sessionClaims(r); ok {
		return "session:" + c.SessionID
	}
	return ""
}
