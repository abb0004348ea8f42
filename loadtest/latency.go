package loadtest

import (
	"errors"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Routes the simulator calls, as reports name them.
const (
	// RoutePublisher makes the stream live (Options.Publisher).
	RoutePublisher = "POST /api/token/publisher"
	// RouteViewerToken is a viewer's join.
	RouteViewerToken = "POST /api/token/viewer"
	// RouteHeartbeat keeps a viewer present.
	RouteHeartbeat = "POST /api/viewer/heartbeat"
	// RouteLeave ends a viewer's session.
	RouteLeave = "POST /api/viewer/leave"
	// RouteStats is read for the accuracy samples.
	RouteStats = "GET /api/stats/viewers"
)

// route indexes the engine's per-route recorders.
type route int

const (
	rPublisher route = iota
	rJoin
	rHeartbeat
	rLeave
	rStats
	numRoutes
)

// String is the route's name in reports.
func (r route) String() string {
	switch r {
	case rPublisher:
		return RoutePublisher
	case rJoin:
		return RouteViewerToken
	case rHeartbeat:
		return RouteHeartbeat
	case rLeave:
		return RouteLeave
	case rStats:
		return RouteStats
	}
	return "route " + strconv.Itoa(int(r))
}

// recorder keeps every latency of one route, exactly, and its errors.
type recorder struct {
	count  atomic.Int64
	errors atomic.Int64

	mu       sync.Mutex
	lat      []time.Duration
	byStatus map[int]int64
	byText   map[string]int64
	mark     int // len(lat) at the last progress line; progress's own
}

// record adds one answered (or failed) request. status is 0 for a network
// error; text, when set, groups the error (network errors, unusable answers).
func (r *recorder) record(d time.Duration, failed bool, status int, text string) {
	r.count.Add(1)
	if failed {
		r.errors.Add(1)
	}
	r.mu.Lock()
	r.lat = append(r.lat, d)
	if failed {
		if r.byStatus == nil {
			r.byStatus = map[int]int64{}
		}
		r.byStatus[status]++
		if text != "" {
			if r.byText == nil {
				r.byText = map[string]int64{}
			}
			r.byText[text]++
		}
	}
	r.mu.Unlock()
}

// tail appends the latencies recorded since the previous call to dst.
func (r *recorder) tail(dst []time.Duration) []time.Duration {
	r.mu.Lock()
	dst = append(dst, r.lat[r.mark:]...)
	r.mark = len(r.lat)
	r.mu.Unlock()
	return dst
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentile returns the nearest-rank percentile p (0 < p ≤ 1) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// latencyOf sorts lat in place and summarises it.
func latencyOf(lat []time.Duration) Latency {
	slices.Sort(lat)
	if len(lat) == 0 {
		return Latency{}
	}
	return Latency{P50: ms(percentile(lat, 0.50)), P90: ms(percentile(lat, 0.90)),
		P99: ms(percentile(lat, 0.99)), Max: ms(lat[len(lat)-1])}
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// errorText groups a network error: the URL, and the addresses and ports
// that differ between connections, are left out.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	s := err.Error()
	if len(s) > 160 {
		s = s[:160]
	}
	return s
}
