package http

import (
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// WSLimits caps this instance's WebSocket connections: in total, per key
// and per client address (IPv6 per /64). Zero means no cap.
type WSLimits struct {
	Total, PerKey, PerAddress int
}

// wsRetry is the Retry-After of a refused connection: enough for a few
// others to close.
const wsRetry = 10 * time.Second

// connCounts counts the connections held, from before the upgrade to the
// close, so concurrent upgrades never overshoot a cap.
type connCounts struct {
	mu     sync.Mutex
	total  int
	byKey  map[string]int
	byAddr map[string]int
}

// admit takes a connection slot for key (empty: no per-key cap, as for
// anonymous WS_PUBLIC readers) and addr, or says which cap is reached; the
// caller must call release once the connection is gone.
func (c *connCounts) admit(lim WSLimits, key, addr string) (release func(), err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case lim.Total > 0 && c.total >= lim.Total:
		return nil, ivslive.Errorf(ivslive.EUNAVAILABLE, "this server holds its maximum of %d WebSocket connections; try another instance or later", lim.Total)
	case lim.PerKey > 0 && key != "" && c.byKey[key] >= lim.PerKey:
		return nil, ivslive.Errorf(ivslive.ERATELIMIT, "this key (%s) holds its maximum of %d WebSocket connections", key, lim.PerKey).WithDetails(RetryAfter(wsRetry))
	case lim.PerAddress > 0 && c.byAddr[addr] >= lim.PerAddress:
		return nil, ivslive.Errorf(ivslive.ERATELIMIT, "this address holds its maximum of %d WebSocket connections", lim.PerAddress).WithDetails(RetryAfter(wsRetry))
	}
	if c.byKey == nil {
		c.byKey, c.byAddr = map[string]int{}, map[string]int{}
	}
	c.total++
	c.byAddr[addr]++
	if key != "" {
		c.byKey[key]++
	}
	var once sync.Once
	return func() { once.Do(func() { c.release(key, addr) }) }, nil
}

func (c *connCounts) release(key, addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.byAddr[addr]--; c.byAddr[addr] <= 0 {
		delete(c.byAddr, addr)
	}
	if key != "" {
		if c.byKey[key]--; c.byKey[key] <= 0 {
			delete(c.byKey, key)
		}
	}
}
