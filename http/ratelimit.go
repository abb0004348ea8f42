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
	policy := map[string][]string{}
	for budget, l := range map[string]ivslive.RateLimit{"api": s.Config.RateLimit, "heartbeat": s.Config.HeartbeatLimit} {
		policy[budget] = []string{strconv.Itoa(l.Requests) + ";w=" + strconv.Itoa(int(l.Period/time.Second))}
	}
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
		who, p := s.identify(r)
		if who != "" {
			keys = append(keys, budget+":"+who)
		}
		if st := stateOf(r.Context()); st != nil && p != nil {
			st.key = p // auth needs it next; no second lookup
		}
		worst, err := s.Limiter.Allow(r.Context(), keys, limit)
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
		h["Ratelimit-Limit"] = []string{strconv.Itoa(worst.Limit)}
		h["Ratelimit-Remaining"] = []string{strconv.Itoa(worst.Remaining)}
		h["Ratelimit-Reset"] = []string{RetryAfter(worst.ResetAfter).Seconds()}
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

// identify names who a request is for rate limiting: a valid key's name (and
// its principal) or a valid session token's session; "" when it is neither
// (the address budget still applies).
func (s *Server) identify(r *http.Request) (string, *Principal) {
	if key := r.Header.Get("X-Api-Key"); key != "" {
		if p, ok := s.lookupKey(key); ok {
			return "key:" + p.Name, &p
		}
		return "", nil
	}
	if c, ok := s.sessionClaims(r); ok {
		return "session:" + c.SessionID, nil
	}
	return "", nil
}
