package sqs

import (
	"sync"
	"time"
)

// Status is what the consumer last saw of its queue, for /api/health.
type Status struct {
	// LastReceive is when a receive last succeeded (zero before the first).
	LastReceive time.Time
	// FailingSince is when receives started failing, zero while they
	// succeed; LastError is the latest failure.
	FailingSince time.Time
	LastError    string
}

// status records receives as they happen.
type status struct {
	mu sync.Mutex
	s  Status
}

func (s *status) received(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.LastReceive, s.s.FailingSince, s.s.LastError = at, time.Time{}, ""
}

func (s *status) failed(at time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s.FailingSince.IsZero() {
		s.s.FailingSince = at
	}
	s.s.LastError = err.Error()
}

// Status reports the consumer's receives so far.
func (c *Consumer) Status() Status {
	c.status.mu.Lock()
	defer c.status.mu.Unlock()
	return c.status.s
}
