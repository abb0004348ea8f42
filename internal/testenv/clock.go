package testenv

import (
	"sync"
	"time"
)

// Clock is a settable clock for tests: services read it through their Now
// field, and it moves only when the test says so, so what a clock decides
// (expiry, leases, rate limits) is tested without waiting on wall time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
