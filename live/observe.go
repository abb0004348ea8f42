package live

import (
	"context"

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

// emit publishes an event stamped with the service's clock to the bus,
// which never blocks, and records it for the webhooks (see record).
func (s *Service) emit(ctx context.Context, e ivslive.Event) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	s.emitBus(e)
	s.record(ctx, []ivslive.Event{e})
}

// emitBus publishes an event to the bus only.
func (s *Service) emitBus(e ivslive.Event) {
	if s.Events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	s.Events.Publish(e)
}

// record hands events to the webhooks and waits until they are queued
// durably, so that an answered request never loses its webhooks to a
// crash, and a request that follows an answer (on any instance) is queued
// behind it. The wait is one write of the queue, shared by every request
// waiting at that moment, and never a delivery. If the queue does not
// answer in time, the events stay buffered for it and the change goes on.
func (s *Service) record(ctx context.Context, events []ivslive.Event) {
	if s.Webhooks == nil || len(events) == 0 {
		return
	}
	if err := s.Webhooks.Record(ctx, events); err != nil {
		s.Log.Warn("webhook events not yet queued; they are kept in memory and retried", "events", len(events), "err", err)
	}
}

func count(n int) *int { return &n }

// maxExpiryEvents bounds the per-viewer events one sweep publishes on the
// bus; beyond it one summary event per stage is sent, so a mass expiry
// cannot flood the bus and drop every subscriber. The webhooks get every
// viewer: their queue is durable and has no subscriber to drop.
const maxExpiryEvents = 100

// emitClosed publishes the events for closed sessions and counts them. On
// the bus: one viewer.left per leave, one viewer.expired per timeout (or a
// summary per stage for a mass expiry), nothing for a stage deletion (the
// stage.deleted event says it). To the webhooks: one viewer.left per
// session, with its reason and the stage's viewer count after it.
func (s *Service) emitClosed(ctx context.Context, closed []ivslive.ClosedSession, reason ivslive.EndReason) {
	if len(closed) == 0 {
		return
	}
	s.observer().SessionsClosed(reason, len(closed))
	s.emitLeft(ctx, closed, reason)
	switch {
	case reason == ivslive.EndLeave || reason == ivslive.EndDisconnected:
		for _, c := range closed {
			s.emitBus(ivslive.Event{Type: ivslive.EventViewerLeft, StageARN: c.StageARN, UserID: c.UserID, SessionID: c.ID, Reason: string(reason)})
		}
	case reason != ivslive.EndTimeout:
	case len(closed) <= maxExpiryEvents:
		for _, c := range closed {
			s.emitBus(ivslive.Event{Type: ivslive.EventViewerExpired, StageARN: c.StageARN, UserID: c.UserID, SessionID: c.ID, Reason: string(reason)})
		}
	default:
		perStage := map[string]int{}
		for _, c := range closed {
			perStage[c.StageARN]++
		}
		for arn, n := range perStage {
			s.emitBus(ivslive.Event{Type: ivslive.EventViewerExpired, StageARN: arn, Count: n, Reason: string(reason)})
		}
	}
}

// emitLeft records one viewer.left per closed session for the webhooks, at
// the time the session ended. Viewers is the stage's count after each one:
// the count read once after the batch, plus the sessions of the same stage
// that the batch closes later. It is left out when the count cannot be
// read.
func (s *Service) emitLeft(ctx context.Context, closed []ivslive.ClosedSession, reason ivslive.EndReason) {
	if s.Webhooks == nil {
		return
	}
	counts, err := s.counts(ctx)
	if err != nil {
		s.Log.Warn("viewer count unavailable for viewer.left webhooks", "err", err)
	}
	later := map[string]int{}
	for _, c := range closed {
		later[c.StageARN]++
	}
	events := make([]ivslive.Event, 0, len(closed))
	for _, c := range closed {
		later[c.StageARN]--
		var viewers *int
		if err == nil {
			viewers = count(counts[c.StageARN] + later[c.StageARN])
		}
		events = append(events, ivslive.Event{Type: ivslive.EventViewerLeft, Time: c.LeftAt, StageARN: c.StageARN, UserID: c.UserID,
			SessionID: c.ID, Reason: string(reason), Viewers: viewers})
	}
	s.record(ctx, events)
}
