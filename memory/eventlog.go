package memory

import (
	"context"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// EventLog implements ivslive.EventLog for one process, with the redis
// twin's semantics (claims and applied marks expire), for a single
// instance with several consumers and for tests.
type EventLog struct {
	mu        sync.Mutex
	now       func() time.Time
	entries   map[string]eventEntry
	pruneSize int // prune expired entries when the map reaches this size
}

type eventEntry struct {
	owner   string // claim holder; "" once applied
	applied bool
	expires time.Time
}

var _ ivslive.EventLog = (*EventLog)(nil)

// NewEventLog returns an empty event log on the clock now (nil for
// time.Now).
func NewEventLog(now func() time.Time) *EventLog {
	if now == nil {
		now = time.Now
	}
	return &EventLog{now: now, entries: make(map[string]eventEntry), pruneSize: 1024}
}

// live returns id's entry unless it expired.
func (l *EventLog) live(id string, now time.Time) (eventEntry, bool) {
	e, ok := l.entries[id]
	if ok && !now.Before(e.expires) {
		delete(l.entries, id)
		return eventEntry{}, false
	}
	return e, ok
}

// ClaimEvent implements ivslive.EventLog.
func (l *EventLog) ClaimEvent(_ context.Context, id, owner string, ttl time.Duration) (ivslive.EventClaim, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.live(id, now)
	switch {
	case ok && e.applied:
		return ivslive.EventApplied, nil
	case ok && e.owner != owner:
		return ivslive.EventBusy, nil
	}
	l.entries[id] = eventEntry{owner: owner, expires: now.Add(ttl)}
	l.pruneLocked(now)
	return ivslive.EventClaimed, nil
}

// FinishEvent implements ivslive.EventLog.
func (l *EventLog) FinishEvent(_ context.Context, id string, ttl time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.entries[id] = eventEntry{applied: true, expires: now.Add(ttl)}
	l.pruneLocked(now)
	return nil
}

// ReleaseEvent implements ivslive.EventLog.
func (l *EventLog) ReleaseEvent(_ context.Context, id, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.live(id, l.now()); ok && !e.applied && e.owner == owner {
		delete(l.entries, id)
	}
	return nil
}

// pruneLocked drops expired entries once the map has doubled since the
// last prune, so the cost stays proportional to the entries added.
func (l *EventLog) pruneLocked(now time.Time) {
	if len(l.entries) < l.pruneSize {
		return
	}
	for id, e := range l.entries {
		if !now.Before(e.expires) {
			delete(l.entries, id)
		}
	}
	l.pruneSize = max(1024, 2*len(l.entries))
}
