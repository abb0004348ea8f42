package http

import (
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Failed authentications slow key guessing on every surface that takes an
// API key (/api/*, /ws, /metrics, the emulator's control plane in key
// mode). Each failure spends one request of the client address's
// "authfail" budget (Config.AuthFailureLimit) in the shared Limiter, so in
// Redis mode the instances add up; an address whose budget is spent is
// refused with 429 and Retry-After before any key it presents is looked
// at, whichever key it tries, until the budget has room again. Successful
// authentications spend nothing.
//
// The refusal itself is decided locally: the instance that sees the budget
// run out remembers the address until the wait is over, so a blocked
// address costs no limiter round trip and a valid key learns nothing
// during the block. Another instance learns of the block from the
// address's next failure there (the shared budget refuses it), so each
// instance checks at most one key beyond the budget per wait.
//
// Viewer session tokens do not count: they are 256-bit MACs that cannot be
// guessed online, and stale ones from many viewers behind one NAT would
// lock that NAT out.

// maxBlocked bounds the addresses remembered as blocked; each needs a whole
// budget of failures first, so only a wide attack reaches it.
const maxBlocked = 100_000

type blockList struct {
	mu    sync.Mutex
	until map[string]time.Time
	n     atomic.Int64 // len(until): the lock-free "nobody is blocked" path
}

// blocked returns how long addr is still refused, if it is.
func (b *blockList) blocked(addr string, now time.Time) (time.Duration, bool) {
	if b.n.Load() == 0 {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.until[addr]
	if !ok {
		return 0, false
	}
	if !now.Before(until) {
		delete(b.until, addr)
		b.n.Store(int64(len(b.until)))
		return 0, false
	}
	return until.Sub(now), true
}

func (b *blockList) block(addr string, until, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil {
		b.until = map[string]time.Time{}
	}
	if len(b.until) >= maxBlocked {
		for a, u := range b.until {
			if !now.Before(u) {
				delete(b.until, a)
			}
		}
	}
	if len(b.until) < maxBlocked {
		b.until[addr] = until
	}
	b.n.Store(int64(len(b.until)))
}

// addressKey is the address a client is counted by (failed
// authentications, WebSocket connections): its IPv4 address, or its IPv6
// /64, which one subscriber usually holds whole.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// presentsKey reports whether r carries an API key: the one surface a
// blocked address is refused on.
func presentsKey(r *http.Request) bool {
	if r.Header.Get("X-Api-Key") != "" {
		return true
	}
	if r.URL.Path != "/ws" {
		return false
	}
	key, _ := wsKey(r)
	return key != ""
}

// guardFailures refuses, before anything else looks at it, a key from an
// address blocked for failed authentications.
func (s *Server) guardFailures(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.failures.n.Load() != 0 && presentsKey(r) {
			if wait, ok := s.failures.blocked(addressKey(s.clientIP(r)), s.now()); ok {
				if s.OnRateLimit != nil {
					s.OnRateLimit("authfail")
				}
				s.Error(w, r, authFailures().WithDetails(RetryAfter(wait)))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authFailed counts a failed authentication against the client's address,
// and blocks the address once its budget is spent.
func (s *Server) authFailed(r *http.Request) {
	limit := s.Config.AuthFailureLimit
	if s.Limiter == nil || limit.Requests <= 0 {
		return
	}
	addr := addressKey(s.clientIP(r))
	d, err := s.Limiter.Allow(r.Context(), []string{"authfail:ip:" + addr}, limit)
	if err != nil {
		// As for the rate limits: an outage of the limiter must not become
		// an outage of the API.
		if s.OnLimiterError != nil {
			s.OnLimiterError()
		}
		if now := time.Now().Unix(); s.lastFailLog.Swap(now) != now {
			s.Log.Warn("rate limiter unavailable; failed authentications are not counted", "err", err)
		}
		return
	}
	now := s.now()
	switch {
	case !d.Allowed:
		s.failures.block(addr, now.Add(d.RetryAfter), now)
	case d.Remaining == 0:
		// This failure took the last request: the next one must wait for
		// the budget to refill by one.
		s.failures.block(addr, now.Add(limit.Period/time.Duration(limit.Requests)), now)
	}
	if !d.Allowed || d.Remaining == 0 {
		s.Log.Warn("failed authentications: address blocked", "address", addr, "path", r.URL.Path)
	}
}
