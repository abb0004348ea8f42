package loadtest

import (
	"container/heap"
	"math/rand/v2"
	"sync"
	"time"
)

// schedule is the heap of due heartbeats, ordered by due time (since the
// run's start). Join workers push; the dispatcher pops and pushes again.
type schedule struct {
	mu   sync.Mutex
	h    dueHeap
	wake chan struct{} // a push may have made the earliest due time earlier
}

type due struct {
	at time.Duration
	v  *viewer
}

type dueHeap []due

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newSchedule() *schedule { return &schedule{wake: make(chan struct{}, 1)} }

// push schedules v's heartbeat at at, and wakes the dispatcher.
func (s *schedule) push(at time.Duration, v *viewer) {
	s.mu.Lock()
	heap.Push(&s.h, due{at: at, v: v})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// popDue appends to dst at most limit of the viewers due at now, and
// schedules each one's next heartbeat one jittered interval after this one
// when that is before end. A viewer past its quietAt is dropped instead. It returns the next due time, or end when there
// is none before it.
func (s *schedule) popDue(dst []*viewer, now, interval, end time.Duration, limit int) ([]*viewer, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := 0; len(s.h) > 0 && s.h[0].at <= now && n < limit; n++ {
		d := s.h[0]
		if q := d.v.quietAt; q > 0 && d.at >= q {
			heap.Pop(&s.h) // gone silent: no heartbeat from now on
			n--
			continue
		}
		dst = append(dst, d.v)
		if next := d.at + jitter(interval); next < end {
			s.h[0].at = next
			heap.Fix(&s.h, 0)
		} else {
			heap.Pop(&s.h)
		}
	}
	if len(s.h) > 0 && s.h[0].at < end {
		return dst, s.h[0].at
	}
	return dst, end
}

// jitter returns d ± 10 %, uniformly.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
