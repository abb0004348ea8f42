package ivslive

import (
	"context"
	"time"
)

// Participant is one participant of a stage session as IVS reports it
// (ListParticipants). Viewers' participant ids are their tokens' jti, so
// IVS's view maps onto viewer sessions.
type Participant struct {
	ID            string
	UserID        string
	Connected     bool // state CONNECTED (else DISCONNECTED)
	Published     bool // published at some time in this session
	FirstJoinTime time.Time
	// Replica is true for a replicated participant in its destination stage.
	Replica bool
	// LeftAt is when it last left, when the source knows it (zero from
	// ListParticipants, which does not say).
	LeftAt time.Time
}

// ParticipantFilter narrows ListParticipants. IVS takes one filter per
// call: Published, or State ("CONNECTED", "DISCONNECTED"), not both.
type ParticipantFilter struct {
	Published bool
	State     string
}

// Participant states, as IVS spells them.
const (
	ParticipantConnected    = "CONNECTED"
	ParticipantDisconnected = "DISCONNECTED"
)

// IVSEvent is one "IVS Stage Update" event from source aws.ivs, as
// EventBridge delivers it. IVS delivers best effort: an event may be
// missing, late, repeated or out of order, so whoever applies one must be
// idempotent by ID and must not let an old event undo a newer state.
type IVSEvent struct {
	ID                   string // EventBridge event id, unique per event
	Time                 time.Time
	StageARN             string
	SessionID            string
	Name                 string // detail.event_name, one of the IVSEvent* names
	ParticipantID        string
	UserID               string
	ErrorCode            string
	DestinationStageARN  string // replication events
	DestinationSessionID string
	// CompositionARN is set on an "IVS Composition State Change" event
	// (Name is then one of the IVSEventComposition* names, StageARN the
	// composed stage and ChannelARN the destination's channel, if any).
	CompositionARN string
	ChannelARN     string
}

// The composition events ivslive applies: a composition that ended or
// failed is no longer the channel's source.
const (
	IVSEventCompositionStart   = "Session Start"
	IVSEventCompositionEnd     = "Session End"
	IVSEventCompositionFailure = "Session Failure"
)

// The event names IVS sends to EventBridge for stages. There is no joined or
// left event: those exist only in ListParticipantEvents.
const (
	IVSEventPublished          = "Participant Published"
	IVSEventUnpublished        = "Participant Unpublished"
	IVSEventPublishError       = "Participant Publish Error"
	IVSEventReplicationStarted = "Participant Replication Started"
	IVSEventReplicationStopped = "Participant Replication Stopped"
)

// IVSEventHandler applies IVS events to ivslive's state. Implemented by
// live.Service; fed by the event consumer (sqs), which deletes a message
// only after ApplyIVSEvent returned nil for it.
type IVSEventHandler interface {
	ApplyIVSEvent(ctx context.Context, ev IVSEvent) error
}
