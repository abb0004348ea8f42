package emulator

import (
	"net/http"
	"time"
)

// maxParticipantEvents bounds one participant's event history; a client
// that reconnects in a loop cannot grow it without end.
const maxParticipantEvents = 1000

// participantEvent is one of the model's Event, as recorded.
type participantEvent struct {
	Name                 string
	Time                 time.Time
	ErrorCode            string
	RemoteParticipantID  string
	DestinationStageArn  string
	DestinationSessionID string
	Replica              bool
	Seq                  int64
}

// eventOutput is the model's Event.
type eventOutput struct {
	Name                 string `json:"name"`
	ParticipantID        string `json:"participantId"`
	EventTime            string `json:"eventTime"`
	RemoteParticipantID  string `json:"remoteParticipantId,omitempty"`
	ErrorCode            string `json:"errorCode,omitempty"`
	DestinationStageArn  string `json:"destinationStageArn,omitempty"`
	DestinationSessionID string `json:"destinationSessionId,omitempty"`
	Replica              bool   `json:"replica"`
}

// eventBridgeName maps the participant events IVS also sends to
// EventBridge to their detail.event_name. JOINED, LEFT and the subscribe
// events have none ("").
func eventBridgeName(event string) string {
	switch event {
	case "PUBLISH_STARTED":
		return "Participant Published"
	case "PUBLISH_STOPPED":
		return "Participant Unpublished"
	case "PUBLISH_ERROR":
		return "Participant Publish Error"
	case "REPLICATION_STARTED":
		return "Participant Replication Started"
	case "REPLICATION_STOPPED":
		return "Participant Replication Stopped"
	}
	return ""
}

// recordLocked appends an event to a participant's history and emits the
// EventBridge event IVS would send for it.
func (e *Emulator) recordLocked(st *stage, s *stageSession, p *participant, ev participantEvent) {
	ev.Time = e.now().UTC()
	ev.Seq = e.nextSeqLocked()
	if len(p.events) >= maxParticipantEvents {
		p.events = append(p.events[:0], p.events[1:]...)
	}
	p.events = append(p.events, ev)
	if ev.Name == "JOINED" || ev.Name == "LEFT" {
		e.participantsChangedLocked()
	}
	e.log.Debug("ivs emulator: participant event", "stage", st.Arn, "session", s.ID, "participant", p.ID, "event", ev.Name, "errorCode", ev.ErrorCode)
	if name := eventBridgeName(ev.Name); name != "" {
		e.emitLocked(st.Arn, StageUpdate{
			SessionID: s.ID, EventName: name, ParticipantID: p.ID, UserID: p.UserID, EventTime: eventTime(ev.Time),
			ErrorCode: ev.ErrorCode, DestinationStageArn: ev.DestinationStageArn, DestinationSessionID: ev.DestinationSessionID,
		}, ev.Time)
	}
}

func (e *Emulator) listParticipantEvents(r *http.Request) (any, error) {
	var in struct {
		participantInput
		MaxResults *int    `json:"maxResults"`
		NextToken  *string `json:"nextToken"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.session(e, in.sessionInput)
	v.requiredStr("participantId", in.ParticipantID, 0, 64, e.re.participantID)
	v.page(e, in.MaxResults, 100, in.NextToken)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// No ResourceNotFoundException in the model: unknown means no events.
	var events []participantEvent
	if s := e.findSessionLocked(*in.StageArn, *in.SessionID); s != nil {
		if p := s.participants[*in.ParticipantID]; p != nil {
			events = p.events
		}
	}
	page, next, err := paginate("events", events, func(ev participantEvent) int64 { return ev.Seq }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Events    []eventOutput `json:"events"`
		NextToken string        `json:"nextToken,omitempty"`
	}{Events: make([]eventOutput, 0, len(page)), NextToken: next}
	for _, ev := range page {
		out.Events = append(out.Events, eventOutput{
			Name: ev.Name, ParticipantID: *in.ParticipantID, EventTime: timestamp(ev.Time),
			RemoteParticipantID: ev.RemoteParticipantID, ErrorCode: ev.ErrorCode,
			DestinationStageArn: ev.DestinationStageArn, DestinationSessionID: ev.DestinationSessionID, Replica: ev.Replica,
		})
	}
	return out, nil
}
