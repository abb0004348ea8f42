package contract

import (
	"context"
	"sync"

	"github.com/ivslive/ivslive"
)

// Sink is a SessionSink and DeadLetterSink that keeps what it receives, for
// tests.
type Sink struct {
	mu       sync.Mutex
	sessions []ivslive.ClosedSession
	letters  []ivslive.DeadLetter
	// Fail, when set, is returned by RecordSessions (nothing is kept).
	Fail error
	// Next, when set, also receives what is recorded (a real store behind
	// the test's view).
	Next ivslive.SessionSink
}

// RecordSessions implements ivslive.SessionSink.
func (s *Sink) RecordSessions(ctx context.Context, sessions []ivslive.ClosedSession) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	if s.Next != nil {
		if err := s.Next.RecordSessions(ctx, sessions); err != nil {
			return err
		}
	}
	s.sessions = append(s.sessions, sessions...)
	return nil
}

// Sessions returns a copy of everything recorded so far.
func (s *Sink) Sessions() []ivslive.ClosedSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ivslive.ClosedSession(nil), s.sessions...)
}

// SetFail sets or clears the error RecordSessions returns.
func (s *Sink) SetFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Fail = err
}

// SaveDeadLetters implements ivslive.DeadLetterSink; it fails like
// RecordSessions, and hands the letters to Next when Next keeps them.
func (s *Sink) SaveDeadLetters(ctx context.Context, letters []ivslive.DeadLetter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	if next, ok := s.Next.(ivslive.DeadLetterSink); ok {
		if err := next.SaveDeadLetters(ctx, letters); err != nil {
			return err
		}
	}
	s.letters = append(s.letters, letters...)
	return nil
}

// DeadLetters returns a copy of every dead letter received so far.
func (s *Sink) DeadLetters() []ivslive.DeadLetter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ivslive.DeadLetter(nil), s.letters...)
}
