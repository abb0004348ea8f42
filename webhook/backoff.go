package webhook

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces the attempts at one job: the wait after the n-th failed
// attempt is Min·2^(n-1), capped at Max, of which the second half is
// random (jitter), so receivers coming back from an outage are not hit by
// every queue at the same instant.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff waits 1 s after the first failure, then 2 s, 4 s, … up to
// an hour between attempts: about 20 attempts in WEBHOOK_MAX_AGE's 24 h.
func DefaultBackoff() Backoff { return Backoff{Min: time.Second, Max: time.Hour} }

// Delay returns the wait after the failed-th failed attempt (1 for the
// first).
func (b Backoff) Delay(failed int) time.Duration {
	d := b.Min
	for i := 1; i < failed && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	half := d / 2
	if half <= 0 {
		return d
	}
	return d - half + rand.N(half+1)
}
