package live

import (
	"github.com/ivslive/ivslive"
)

// Observer sees what the core does, for metrics. Every method must be cheap
// and must not block.
type Observer interface {
	TokenIssued(kind, strategy string)
	SessionOpened()
	SessionsClosed(reason ivslive.EndReason, n int)
	Heartbeat(ok bool)
	// DeadLettered counts closed-session records the history store refused.
	DeadLettered(n int)
}

type noObserver struct{}

func (noObserver) TokenIssued(string, string)            {}
func (noObserver) SessionOpened()                        {}
func (noObserver) SessionsClosed(ivslive.EndReason, int) {}
func (noObserver) Heartbeat(bool)                        {}
func (noObserver) DeadLettered(int)                      {}

func (s *Service) observer() Observer {
	if s.Observer == nil {
		return noObserver{}
	}
	return s.Observer
}

// emit publishes an event stamped with the service's clock; publishing
// never blocks.
func (s *Service) emit(e ivslive.Event) {
	if s.Events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	s.Events.Publish(e)
}

func count(n int) *int { return &n }

// maxExpiryEvents bounds the per-viewer events one sweep publishes; beyond
// it one summary event per stage is sent, so a mass expiry cannot flood the
// bus and drop every subscriber.
const maxExpiryEvents = 100

// emitClosed publishes the events for sessions closed in bulk (expiry,
// stage deletion) and counts them.
func (s *Service) emitClosed(closed []ivslive.ClosedSession, reason ivslive.EndReason) {
	if len(closed) == 0 {
		return
	}
	s.observer().SessionsClosed(reason, len(closed))
	if reason != ivslive.EndTimeout {
		return // the stage.deleted event says it
	}
	if len(closed) <= maxExpiryEvents {
		for _, c := range closed {
			s.emit(ivslive.Event{Type: ivslive.EventViewerExpired, StageARN: c.StageARN, UserID: c.UserID, SessionID: c.ID, Reason: string(reason)})
		}
		return
	}
	perStage := map[string]int{}
	for _, c := range closed {
		perStage[c.StageARN]++
	}
	for arn, n := range perStage {
		s.emit(ivslive.Event{Type: ivslive.EventViewerExpired, StageARN: arn, Count: n, Reason: string(reason)})
	}
}
