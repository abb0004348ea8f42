package http

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ivslive/ivslive"
)

// rateLimit spends the request's budgets before anything else runs (as the
// Node server did, failed authentications count too): one per client
// address and one per key (or session), the heartbeat route from its own,
// larger budget so viewers are never throttled by a few busy admins.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	var lastLog atomic.Int64
	// The headers that depend only on the budget, built once.
	var policy, limitHeader [budgets][]string
	for b, l := range [budgets]ivslive.RateLimit{s.Config.RateLimit, s.Config.HeartbeatLimit} {
		policy[b] = []string{strconv.Itoa(l.Requests) + ";w=" + strconv.Itoa(int(l.Period/time.Second))}
		limitHeader[b] = []string{strconv.Itoa(l.Requests)}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Limiter == nil || !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		budget, limit, limiter := budgetAPI, s.Config.RateLimit, s.Limiter
		if r.URL.Path == "/api/viewer/heartbeat" {
			budget, limit = budgetHeartbeat, s.Config.HeartbeatLimit
			if s.HeartbeatLimiter != nil {
				limiter = s.HeartbeatLimiter
			}
		}
		if limit.Requests <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		st := stateOf(r.Context())
		var keys []string
		if st != nil {
			keys = st.limitKeys[:0]
		}
		keys = append(keys, budgetNames[budget]+":ip:"+s.clientIP(r))
		who, k := s.identify(r, budget)
		if who != "" {
			keys = append(keys, who)
		}
		if st != nil && k != nil {
			st.key = &k.principal // auth needs it next; no second lookup
		}
		worst, err := limiter.Allow(r.Context(), keys, limit)
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
		h := w.Header()
		h["Ratelimit-Policy"] = policy[budget]
		if worst.Limit == limit.Requests {
			h["Ratelimit-Limit"] = limitHeader[budget]
		} else {
			h["Ratelimit-Limit"] = []string{strconv.Itoa(worst.Limit)}
		}
		// One allocation for both values' slices.
		vals := [...]string{strconv.Itoa(worst.Remaining), RetryAfter(worst.ResetAfter).Seconds()}
		both := vals[:]
		h["Ratelimit-Remaining"] = both[0:1:1]
		h["Ratelimit-Reset"] = both[1:2:2]
		if !worst.Allowed {
			if s.OnRateLimit != nil {
				s.OnRateLimit(budgetNames[budget])
			}
			s.Error(w, r, (&ivslive.Error{Code: ivslive.ERATELIMIT}).WithDetails(RetryAfter(worst.RetryAfter)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// The rate budgets: the API's, and the heartbeat's (larger, separate, so
// viewers are never throttled by a few busy admins).
const (
	budgetAPI = iota
	budgetHeartbeat
	budgets
)

var budgetNames = [budgets]string{"api", "heartbeat"}

// identify names who a request is for rate limiting, as its limiter key in
// budget: a valid key's (with the key, whose principal auth reuses) or a
// valid session token's session; "" when it is neither (the address budget
// still applies).
func (s *Server) identify(r *http.Request, budget int) (string, *keyDigest) {
	if key := r.Header.Get("X-Api-Key"); key != "" {
		if k, ok := s.lookupKey(key); ok {
			return k.limitKeys[budget], k
		}
		return "", nil
	}
	if c, ok := s.sessionClaims(r); ok {
		return budgetNames[budget] + ":session:" + c.SessionID, nil
	}
	return "", nil
}
