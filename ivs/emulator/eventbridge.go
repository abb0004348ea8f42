package emulator

import (
	"encoding/json"
	"time"
)

// sinkBuffer is how many events a sink may fall behind before new ones are
// dropped for it. IVS's own delivery is best effort; the emulator never
// lets a slow sink hold up a participant.
const sinkBuffer = 1024

// EventBridgeEvent is an event exactly as Amazon EventBridge delivers it (to
// a rule's target, such as an SQS queue whose message body is this JSON).
// The emulator sends "IVS Stage Update" events from source "aws.ivs".
type EventBridgeEvent struct {
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	DetailType string      `json:"detail-type"`
	Source     string      `json:"source"`
	Account    string      `json:"account"`
	Time       string      `json:"time"`
	Region     string      `json:"region"`
	Resources  []string    `json:"resources"`
	Detail     StageUpdate `json:"detail"`
	// Composition is the detail of an "IVS Composition State Change"
	// event instead of Detail (which is then zero); it is encoded as
	// "detail".
	Composition *CompositionStateChange `json:"-"`
}

// CompositionStateChange is the detail of an "IVS Composition State
// Change" event. The event names are IVS's (Session Start, Session End,
// Session Failure, Destination Start, Destination End, ...); AWS does not
// document the detail's other keys, so they are this emulator's snake_case
// spelling of the API's members. The event's resources hold the
// composition ARN.
type CompositionStateChange struct {
	EventName      string `json:"event_name"`
	StageArn       string `json:"stage_arn"`
	DestinationID  string `json:"destination_id,omitempty"`
	ChannelArn     string `json:"destination_channel_arn,omitempty"`
	EventTime      string `json:"event_time"`
	ErrorCode      string `json:"error_code,omitempty"`
	CompositionArn string `json:"composition_arn"`
}

// MarshalJSON encodes the event as EventBridge delivers it, with the
// composition detail in place of the stage detail when there is one.
func (ev EventBridgeEvent) MarshalJSON() ([]byte, error) {
	type plain EventBridgeEvent
	if ev.Composition == nil {
		return json.Marshal(plain(ev))
	}
	return json.Marshal(struct {
		plain
		Detail *CompositionStateChange `json:"detail"`
	}{plain(ev), ev.Composition})
}

// StageUpdate is the detail of an "IVS Stage Update" event. The first five
// members are the ones IVS documents and samples show. ErrorCode (on
// "Participant Publish Error") and the destination members (on the
// replication events) carry what ListParticipantEvents records with those
// events; AWS does not document their keys, so they are this emulator's
// snake_case spelling of the API's members.
type StageUpdate struct {
	SessionID            string `json:"session_id"`
	EventName            string `json:"event_name"`
	ParticipantID        string `json:"participant_id"`
	UserID               string `json:"user_id"`
	EventTime            string `json:"event_time"`
	ErrorCode            string `json:"error_code,omitempty"`
	DestinationStageArn  string `json:"destination_stage_arn,omitempty"`
	DestinationSessionID string `json:"destination_session_id,omitempty"`
}

// sink is one subscriber to the emulator's EventBridge events.
type sink struct {
	ch      chan EventBridgeEvent
	stop    chan struct{} // closed when the subscription ends
	dropped int
}

// SubscribeEvents calls fn with every EventBridge event the emulator emits
// from now on, in order, on a goroutine of the subscription's own. fn may
// take its time: up to 1,024 events wait for it, and later ones are dropped
// for this subscription (and logged), as EventBridge delivery is best
// effort. The returned function ends the subscription (events not yet
// delivered are dropped). Close ends every subscription after delivering
// what is queued, the events of the disconnects it makes included, so it
// waits for fn to take them.
func (e *Emulator) SubscribeEvents(fn func(EventBridgeEvent)) (unsubscribe func()) {
	s := &sink{ch: make(chan EventBridgeEvent, sinkBuffer), stop: make(chan struct{})}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return func() {}
	}
	e.sinks[s] = struct{}{}
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		for ev := range s.ch {
			select {
			case <-s.stop:
				continue // drain without delivering
			default:
			}
			fn(ev)
		}
	}()
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if _, ok := e.sinks[s]; ok {
			e.dropSinkLocked(s)
		}
	}
}

// dropSinkLocked ends a subscription; its goroutine drains the channel
// without delivering and exits.
func (e *Emulator) dropSinkLocked(s *sink) {
	close(s.stop)
	e.finishSinkLocked(s)
}

// finishSinkLocked ends a subscription once what is queued was delivered.
func (e *Emulator) finishSinkLocked(s *sink) {
	delete(e.sinks, s)
	close(s.ch)
}

// emitLocked sends an IVS Stage Update to the event queue (as the
// EventBridge rule that targets it would) and to every sink, without
// blocking.
func (e *Emulator) emitLocked(stageArn string, detail StageUpdate, at time.Time) {
	e.sendLocked(e.event("IVS Stage Update", stageArn, at, func(ev *EventBridgeEvent) { ev.Detail = detail }))
}

// emitCompositionLocked sends an IVS Composition State Change.
func (e *Emulator) emitCompositionLocked(c *composition, name string, at time.Time) {
	e.sendLocked(e.event("IVS Composition State Change", c.arn, at, func(ev *EventBridgeEvent) {
		ev.Composition = &CompositionStateChange{EventName: name, StageArn: c.stageArn, DestinationID: c.destID,
			ChannelArn: c.channelArn, EventTime: eventTime(at), CompositionArn: c.arn}
	}))
}

func (e *Emulator) event(detailType, resource string, at time.Time, fill func(*EventBridgeEvent)) *EventBridgeEvent {
	ev := &EventBridgeEvent{
		Version:    "0",
		ID:         newRequestID(),
		DetailType: detailType,
		Source:     "aws.ivs",
		Account:    e.opts.AccountID,
		Time:       eventTime(at),
		Region:     e.opts.Region,
		Resources:  []string{resource},
	}
	fill(ev)
	return ev
}

// sendLocked puts an event in the event queue (as the EventBridge rule
// that targets it would) and hands it to every sink.
func (e *Emulator) sendLocked(p *EventBridgeEvent) {
	ev := *p
	if body, err := json.Marshal(ev); err == nil {
		if n := e.queue.offerEvent(string(body)); n == 1 || n%1000 == 0 && n > 0 {
			e.log.Warn("ivs emulator: the event queue is full; dropping its oldest messages", "dropped", n)
		}
	}
	for s := range e.sinks {
		select {
		case s.ch <- ev:
		default:
			s.dropped++
			if s.dropped == 1 || s.dropped%1000 == 0 {
				e.log.Warn("ivs emulator: an event sink is too slow; dropping events", "dropped", s.dropped)
			}
		}
	}
}

// eventTime formats t as EventBridge does: UTC to the second.
func eventTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
