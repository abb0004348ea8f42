package loadtest

import (
	"sync"
	"time"
)

// model is the simulator's own count of present viewers over time: joins
// answered, minus leaves answered, minus viewers not acknowledged for
// Timeout, plus the server's count before the run (the baseline). A join or
// leave in flight may already have been counted by the server, or not: while
// it is, the model is a band, widened upwards by the joins in flight and
// downwards by the leaves in flight.
//
// It keeps, per tick, the lowest and highest count seen during the tick, so
// that the extremes over any window are exact up to the tick's length at the
// window's start. Joins and leaves update it under its lock (once per viewer
// each); heartbeats do not touch it, only their viewer's lastAck.
type model struct {
	keep time.Duration                                           // how much history window needs
	scan func(now time.Duration) (stale int, next time.Duration) // counts the viewers gone silent

	baseline int // set before any other use

	mu       sync.Mutex
	count    int // baseline + joined − left
	stale    int
	joining  int // joins sent and not answered yet
	leaving  int // leaves sent and not answered yet
	nextScan time.Duration
	lo, hi   int // extremes of the open tick
	points   []point
	first    int // points[:first] are too old to matter
}

// point is the extremes of the model during the tick that ended at t.
type point struct {
	t      time.Duration
	lo, hi int
}

// newModel returns an empty model that remembers keep of history and counts
// silent viewers with scan.
func newModel(keep time.Duration, scan func(time.Duration) (int, time.Duration)) *model {
	return &model{keep: keep, scan: scan}
}

// setBaseline starts the model from the server's count.
func (m *model) setBaseline(n int) {
	m.mu.Lock()
	m.baseline = n
	m.count += n
	m.lo, m.hi = m.count, m.count
	m.mu.Unlock()
}

// joinSent notes a join request on its way.
func (m *model) joinSent() {
	m.mu.Lock()
	m.joining++
	m.note()
	m.mu.Unlock()
}

// joinDone notes the end of a join request, and counts the viewer when it
// got its token.
func (m *model) joinDone(ok bool) {
	m.mu.Lock()
	m.joining--
	if ok {
		m.count++
	}
	m.note()
	m.mu.Unlock()
}

// leaveSent notes a leave request on its way.
func (m *model) leaveSent() {
	m.mu.Lock()
	m.leaving++
	m.note()
	m.mu.Unlock()
}

// leaveDone notes the end of v's leave request, and counts v out when it
// was answered.
func (m *model) leaveDone(v *viewer, ok bool) {
	m.mu.Lock()
	m.leaving--
	if ok && !v.left.Swap(true) {
		if v.silent { // the last scan counted it as gone already
			v.silent = false
			m.stale--
		}
		m.count--
	}
	m.note()
	m.mu.Unlock()
}

// band is the model's range now; m.mu is held.
func (m *model) band() (lo, hi int) {
	v := m.count - m.stale
	return v - m.leaving, v + m.joining
}

// note folds the current band into the open tick; m.mu is held.
func (m *model) note() {
	lo, hi := m.band()
	m.lo, m.hi = min(m.lo, lo), max(m.hi, hi)
}

// tick closes the tick ending at now, after looking for viewers gone silent
// when one may have.
func (m *model) tick(now time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stale > 0 || now >= m.nextScan {
		m.stale, m.nextScan = m.scan(now)
		m.note()
	}
	m.points = append(m.points, point{t: now, lo: m.lo, hi: m.hi})
	m.lo, m.hi = m.band()
	for m.first < len(m.points) && m.points[m.first].t < now-m.keep {
		m.first++
	}
	if m.first > 1024 && m.first > len(m.points)/2 {
		m.points = append(m.points[:0], m.points[m.first:]...)
		m.first = 0
	}
}

// window returns the model's extremes from from to now (the open tick).
func (m *model) window(from time.Duration) (lo, hi int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	lo, hi = m.lo, m.hi
	// A tick that ended at or after from overlaps the window.
	for i := len(m.points) - 1; i >= m.first && m.points[i].t >= from; i-- {
		lo, hi = min(lo, m.points[i].lo), max(hi, m.points[i].hi)
	}
	return lo, hi
}

// value is the model's count now, requests in flight left out.
func (m *model) value() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count - m.stale
}

// scanSilent counts the joined viewers that have not left and were last
// acknowledged more than timeout ago, and returns when the next one may go
// silent. It runs under the model's lock, which serialises it with leaves.
func (e *engine) scanSilent(now time.Duration) (stale int, next time.Duration) {
	next = now + e.o.Timeout
	for i, n := 0, e.joinedCount(); i < n; i++ {
		v := e.joinedAt(i)
		if v == nil || v.left.Load() {
			continue
		}
		until := time.Duration(v.lastAck.Load()) + e.o.Timeout
		v.silent = until <= now
		if v.silent {
			stale++
		} else {
			next = min(next, until)
		}
	}
	return stale, next
}
