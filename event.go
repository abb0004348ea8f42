package ivslive

import "time"

// EventType names what happened.
type EventType string

// Event types, published on the event bus (and carried between instances by
// Redis pub/sub in Redis mode).
const (
	EventViewerJoined       EventType = "viewer.joined"
	EventViewerLeft         EventType = "viewer.left"
	EventViewerExpired      EventType = "viewer.expired"
	EventStageCreated       EventType = "stage.created"
	EventStageDraining      EventType = "stage.draining"
	EventStageActive        EventType = "stage.active"
	EventStageDeleted       EventType = "stage.deleted"
	EventPublisherLive      EventType = "publisher.live"
	EventPublisherEnded     EventType = "publisher.ended"
	EventReplicationStarted EventType = "replication.started"
	EventReplicationStopped EventType = "replication.stopped"
	// HistoryDeadLettered says closed-session records were refused by the
	// history store for their content and kept as dead letters (SessionID
	// and Reason for one record, Count for many).
	EventHistoryDeadLettered EventType = "history.dead_lettered"
	// InstanceCounters carries one instance's counters since its previous
	// report, so the leader can send cluster-wide totals (CloudWatch).
	EventInstanceCounters EventType = "instance.counters"
)

// Event is a change in presence or in the stage pool.
type Event struct {
	Type          EventType `json:"type"`
	Time          time.Time `json:"time"`
	StageARN      string    `json:"stageArn,omitempty"`
	UserID        string    `json:"userId,omitempty"`
	SessionID     string    `json:"sessionId,omitempty"`
	ParticipantID string    `json:"participantId,omitempty"`
	// Viewers is the stage's count after the event, when known.
	Viewers *int `json:"viewers,omitempty"`
	// Count is how many sessions a bulk event covers (an expiry sweep).
	Count  int    `json:"count,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Counters is set on InstanceCounters events.
	Counters map[string]int64 `json:"counters,omitempty"`
	// Origin is the instance that published the event.
	Origin string `json:"origin,omitempty"`
}

// EventPublisher publishes events. Publish never blocks the caller.
type EventPublisher interface {
	Publish(e Event)
}
