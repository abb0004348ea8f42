package loadtest

import (
	"slices"
	"sync"
	"time"
)

// Window is the heartbeats sent during one Options.SeriesEvery of the run.
type Window struct {
	// At is the window's start in seconds since the run's start.
	At    float64 `json:"at"`
	Count int     `json:"count"`
	// P50 and P99 are milliseconds, failed requests included.
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

// Span is a stretch of wall-clock time, such as one checkpoint of the
// server's.
type Span struct {
	From, To time.Time
}

// series keeps every heartbeat latency in the window of its sending time, so
// a report can say what the latency was while something else happened: the
// moments are known only afterwards (from the server's log, say).
type series struct {
	width time.Duration
	mu    sync.Mutex
	lat   [][]time.Duration // by window
}

func newSeries(width time.Duration) *series {
	if width <= 0 {
		return nil
	}
	return &series{width: width}
}

// add records one heartbeat sent at sent (since the run's start).
func (s *series) add(sent, lat time.Duration) {
	i := int(sent / s.width)
	s.mu.Lock()
	for len(s.lat) <= i {
		s.lat = append(s.lat, nil)
	}
	s.lat[i] = append(s.lat[i], lat)
	s.mu.Unlock()
}

// windows summarises each window, sorting its latencies in place.
func (s *series) windows() []Window {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Window, len(s.lat))
	for i, lat := range s.lat {
		slices.Sort(lat)
		out[i] = Window{At: (time.Duration(i) * s.width).Seconds(), Count: len(lat),
			P50: ms(percentile(lat, 0.50)), P99: ms(percentile(lat, 0.99))}
	}
	return out
}

// Split is the heartbeat latency while something happened and while it did
// not, from Report.HeartbeatSplit.
type Split struct {
	During, Outside           Latency
	DuringCount, OutsideCount int
	// DuringWindows is how many windows of the series touched a span.
	DuringWindows int
}

// HeartbeatSplit divides the heartbeats sent after the warmup between those
// sent in a window of the series that overlaps one of spans (wall-clock
// times, e.g. the server's checkpoints) and the others, and gives each
// side's latency: "p99 during background work" against "p99 without". It
// is zero when the run kept no series (Options.SeriesEvery 0).
func (r *Report) HeartbeatSplit(spans []Span) Split {
	s := r.series
	if s == nil {
		return Split{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var during, outside []time.Duration
	var sp Split
	for i, lat := range s.lat {
		from := r.Start.Add(time.Duration(i) * s.width)
		to := from.Add(s.width)
		if from.Before(r.Start.Add(r.warmup)) {
			continue
		}
		hit := false
		for _, x := range spans {
			if x.From.Before(to) && x.To.After(from) {
				hit = true
				break
			}
		}
		if hit {
			during = append(during, lat...)
			sp.DuringWindows++
		} else {
			outside = append(outside, lat...)
		}
	}
	sp.During, sp.DuringCount = latencyOf(during), len(during)
	sp.Outside, sp.OutsideCount = latencyOf(outside), len(outside)
	return sp
}
