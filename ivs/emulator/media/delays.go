package media

import (
	"slices"
	"sync"
	"time"
)

// Delays records how long packets spend inside the media plane, for
// benchmarks: Forward is from the publisher's packet leaving SRTP to a
// subscriber's copy being encrypted and queued for the socket, Socket from
// queued to sent (sendmmsg returned). Recording costs a clock read and a
// lock per packet and subscriber, so production leaves Config.Delays nil.
type Delays struct {
	mu      sync.Mutex
	forward []time.Duration
	socket  []time.Duration
}

func (d *Delays) addForward(v time.Duration) {
	d.mu.Lock()
	d.forward = append(d.forward, v)
	d.mu.Unlock()
}

func (d *Delays) addSocket(v time.Duration) {
	d.mu.Lock()
	d.socket = append(d.socket, v)
	d.mu.Unlock()
}

// Reset forgets what was recorded, to measure a window that starts now.
func (d *Delays) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.forward, d.socket = d.forward[:0], d.socket[:0]
}

// Quantiles returns the q-quantiles of the Forward and Socket delays.
func (d *Delays) Quantiles(q ...float64) (forward, socket []time.Duration) {
	d.mu.Lock()
	f, s := slices.Clone(d.forward), slices.Clone(d.socket)
	d.mu.Unlock()
	return quantiles(f, q), quantiles(s, q)
}

func quantiles(v []time.Duration, q []float64) []time.Duration {
	out := make([]time.Duration, len(q))
	if len(v) == 0 {
		return out
	}
	slices.Sort(v)
	for i, x := range q {
		out[i] = v[int(x*float64(len(v)-1))]
	}
	return out
}
