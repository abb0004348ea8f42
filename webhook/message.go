package webhook

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ivslive/ivslive"
)

// The webhook event types. Each has a versioned JSON schema in the OpenAPI
// document (webhooks section); Version is the version of every type's
// schema that this build sends.
const (
	BroadcastStarted    = "broadcast.started"
	BroadcastEnded      = "broadcast.ended"
	ViewerJoined        = "viewer.joined"
	ViewerLeft          = "viewer.left"
	StageCreated        = "stage.created"
	StageDraining       = "stage.draining"
	StageDeleted        = "stage.deleted"
	ReplicationStarted  = "replication.started"
	ReplicationStopped  = "replication.stopped"
	HistoryDeadLettered = "history.dead_lettered"

	Version = 1
)

// Types returns every webhook event type.
func Types() []string {
	return []string{BroadcastStarted, BroadcastEnded, ViewerJoined, ViewerLeft, StageCreated, StageDraining,
		StageDeleted, ReplicationStarted, ReplicationStopped, HistoryDeadLettered}
}

// Message is the body of every webhook request: the envelope of the
// Standard Webhooks convention (type, timestamp, data) plus the event's id
// (also sent as webhook-id) and its schema version.
type Message struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Version int    `json:"version"`
	// Timestamp is when the event happened, UTC with milliseconds.
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// BroadcastData is the data of broadcast.started and broadcast.ended.
type BroadcastData struct {
	StageARN      string `json:"stageArn"`
	UserID        string `json:"userId"`
	ParticipantID string `json:"participantId"`
}

// ViewerData is the data of viewer.joined and viewer.left. Viewers is the
// stage's viewer count right after the change; Reason (viewer.left only)
// says why the session ended.
type ViewerData struct {
	StageARN  string `json:"stageArn"`
	UserID    string `json:"userId"`
	SessionID string `json:"sessionId"`
	Reason    string `json:"reason,omitempty"`
	// Viewers is null on a viewer.left whose count could not be read.
	Viewers *int `json:"viewers"`
}

// StageData is the data of stage.created, stage.draining and stage.deleted;
// ViewersClosed and Reason are set on stage.deleted only.
type StageData struct {
	StageARN      string `json:"stageArn"`
	ViewersClosed *int   `json:"viewersClosed,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// ReplicationData is the data of replication.started and
// replication.stopped: the publisher's participant replicated into the
// stage.
type ReplicationData struct {
	StageARN      string `json:"stageArn"`
	ParticipantID string `json:"participantId"`
}

// DeadLetterData is the data of history.dead_lettered: a closed-session
// record the history store refused as bad data.
type DeadLetterData struct {
	SessionID string `json:"sessionId"`
	UserID    string `json:"userId,omitempty"`
	StageARN  string `json:"stageArn,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// typeOf names the webhook type of a bus event, or "" for events webhooks
// do not carry (stage.active, instance counters, bulk summaries).
func typeOf(e ivslive.Event) string {
	switch e.Type {
	case ivslive.EventPublisherLive:
		return BroadcastStarted
	case ivslive.EventPublisherEnded:
		return BroadcastEnded
	case ivslive.EventViewerJoined:
		return ViewerJoined
	case ivslive.EventViewerLeft, ivslive.EventViewerExpired:
		if e.UserID == "" { // a per-stage summary of a mass expiry
			return ""
		}
		return ViewerLeft
	case ivslive.EventStageCreated:
		return StageCreated
	case ivslive.EventStageDraining:
		return StageDraining
	case ivslive.EventStageDeleted:
		return StageDeleted
	case ivslive.EventReplicationStarted:
		return ReplicationStarted
	case ivslive.EventReplicationStopped:
		return ReplicationStopped
	case ivslive.EventHistoryDeadLettered:
		return HistoryDeadLettered
	}
	return ""
}

// Encode turns a bus event into the webhook event with the given id, and
// reports false for events webhooks do not carry.
func Encode(e ivslive.Event, id string) (ivslive.WebhookEvent, bool, error) {
	typ := typeOf(e)
	if typ == "" {
		return ivslive.WebhookEvent{}, false, nil
	}
	var data any
	switch typ {
	case BroadcastStarted, BroadcastEnded:
		data = BroadcastData{StageARN: e.StageARN, UserID: e.UserID, ParticipantID: e.ParticipantID}
	case ViewerJoined:
		data = ViewerData{StageARN: e.StageARN, UserID: e.UserID, SessionID: e.SessionID, Viewers: e.Viewers}
	case ViewerLeft:
		reason := e.Reason
		if reason == "" {
			reason = string(ivslive.EndLeave)
		}
		data = ViewerData{StageARN: e.StageARN, UserID: e.UserID, SessionID: e.SessionID, Reason: reason, Viewers: e.Viewers}
	case StageCreated, StageDraining:
		data = StageData{StageARN: e.StageARN}
	case StageDeleted:
		n := e.Count
		data = StageData{StageARN: e.StageARN, ViewersClosed: &n, Reason: e.Reason}
	case ReplicationStarted, ReplicationStopped:
		data = ReplicationData{StageARN: e.StageARN, ParticipantID: e.ParticipantID}
	case HistoryDeadLettered:
		data = DeadLetterData{SessionID: e.SessionID, UserID: e.UserID, StageARN: e.StageARN, Reason: e.Reason}
	}
	at := e.Time.UTC()
	body, err := json.Marshal(Message{ID: id, Type: typ, Version: Version, Timestamp: at.Format(timeFormat), Data: data})
	if err != nil {
		return ivslive.WebhookEvent{}, false, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return ivslive.WebhookEvent{ID: id, Type: typ, Time: at, StageARN: e.StageARN, Payload: body}, true, nil
}

// timeFormat is the API's: UTC with milliseconds, as JavaScript's
// toISOString().
const timeFormat = "2006-01-02T15:04:05.000Z"

// crockford is the base-32 alphabet of ULIDs: no I, L, O or U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a new event id: "msg_" and a ULID (48 bits of milliseconds,
// 80 random bits), so ids sort by creation time and never repeat across
// instances or restarts.
func NewID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:]) // crypto/rand never fails
	// 128 bits as 26 base-32 digits, the first holding the top 3 bits.
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	out := make([]byte, 4+26)
	copy(out, "msg_")
	for i := 25; i >= 0; i-- {
		out[4+i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out)
}
