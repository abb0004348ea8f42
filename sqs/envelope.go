package sqs

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ivslive/ivslive"
)

// What EventBridge sends for IVS Real-Time stages.
const (
	ivsSource        = "aws.ivs"
	stageUpdateType  = "IVS Stage Update"
	compositionType  = "IVS Composition State Change"
	maxIDLength      = 256
	maxARNLength     = 2048
	maxErrorCodeSize = 128
)

// envelope is an EventBridge event as an SQS target receives it.
type envelope struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Time       string          `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// stageUpdate is the detail of an "IVS Stage Update". The error and
// destination members are the emulator's spelling (AWS does not document
// them); AWS's events leave them out, which is harmless.
type stageUpdate struct {
	SessionID            string `json:"session_id"`
	EventName            string `json:"event_name"`
	ParticipantID        string `json:"participant_id"`
	UserID               string `json:"user_id"`
	EventTime            string `json:"event_time"`
	ErrorCode            string `json:"error_code"`
	DestinationStageArn  string `json:"destination_stage_arn"`
	DestinationSessionID string `json:"destination_session_id"`
}

// errIgnored marks an event that is well formed but not for ivslive: another
// source or detail type (the rule should not send them, but a shared queue
// may), or an IVS stage event name ivslive does not apply.
var errIgnored = errors.New("not an IVS stage event ivslive applies")

// knownEvents are the event names ivslive applies.
var knownEvents = map[string]bool{
	ivslive.IVSEventPublished: true, ivslive.IVSEventUnpublished: true, ivslive.IVSEventPublishError: true,
	ivslive.IVSEventReplicationStarted: true, ivslive.IVSEventReplicationStopped: true,
}

// parseEvent turns a message body into an IVS event. It fails with
// errIgnored for events of other kinds, and with another error for bodies
// that are not a usable event (not JSON, members missing or malformed).
func parseEvent(body string) (ivslive.IVSEvent, error) {
	var env envelope
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		return ivslive.IVSEvent{}, fmt.Errorf("not an EventBridge event: %w", err)
	}
	if env.Source == ivsSource && env.DetailType == compositionType {
		return parseComposition(env)
	}
	if env.Source != ivsSource || env.DetailType != stageUpdateType {
		return ivslive.IVSEvent{}, fmt.Errorf("%w: source %q, detail-type %q", errIgnored, env.Source, env.DetailType)
	}
	var d stageUpdate
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return ivslive.IVSEvent{}, fmt.Errorf("detail: %w", err)
	}
	if d.EventName == "" {
		return ivslive.IVSEvent{}, errors.New("detail.event_name is missing")
	}
	if !knownEvents[d.EventName] {
		return ivslive.IVSEvent{}, fmt.Errorf("%w: event_name %q", errIgnored, d.EventName)
	}
	ev := ivslive.IVSEvent{ID: env.ID, SessionID: d.SessionID, Name: d.EventName, ParticipantID: d.ParticipantID, UserID: d.UserID,
		ErrorCode: d.ErrorCode, DestinationStageARN: d.DestinationStageArn, DestinationSessionID: d.DestinationSessionID}
	if len(env.Resources) > 0 {
		ev.StageARN = env.Resources[0]
	}
	if err := checkEvent(ev); err != nil {
		return ivslive.IVSEvent{}, err
	}
	var err error
	if ev.Time, err = eventTime(d.EventTime, env.Time); err != nil {
		return ivslive.IVSEvent{}, err
	}
	return ev, nil
}

// checkEvent refuses events without the members every handler relies on,
// and text that could not be stored or logged safely: the queue takes
// messages from anyone allowed to send to it.
func checkEvent(ev ivslive.IVSEvent) error {
	switch {
	case ev.ID == "":
		return errors.New("id is missing")
	case !strings.HasPrefix(ev.StageARN, "arn:") || !strings.Contains(ev.StageARN, ":stage/"):
		return fmt.Errorf("resources[0] %q is not a stage ARN", ivslive.StoredText(ev.StageARN, 100))
	case ev.ParticipantID == "":
		return errors.New("detail.participant_id is missing")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"id", ev.ID, maxIDLength}, {"resources[0]", ev.StageARN, maxARNLength}, {"detail.session_id", ev.SessionID, maxIDLength},
		{"detail.participant_id", ev.ParticipantID, maxIDLength}, {"detail.user_id", ev.UserID, maxIDLength},
		{"detail.error_code", ev.ErrorCode, maxErrorCodeSize}, {"detail.destination_stage_arn", ev.DestinationStageARN, maxARNLength},
		{"detail.destination_session_id", ev.DestinationSessionID, maxIDLength}} {
		if err := ivslive.CheckID(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// eventTime is when the event happened: detail.event_time, else the
// envelope's time (both RFC 3339).
func eventTime(values ...string) (time.Time, error) {
	for _, v := range values {
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q is not RFC 3339", ivslive.StoredText(v, 64))
		}
		return t.UTC(), nil
	}
	return time.Time{}, errors.New("the event has no time")
}

// compositionChange is the detail of an "IVS Composition State Change"
// (the emulator's snake_case spelling; resources[0] is the composition).
type compositionChange struct {
	EventName  string `json:"event_name"`
	StageArn   string `json:"stage_arn"`
	ChannelArn string `json:"destination_channel_arn"`
	EventTime  string `json:"event_time"`
	ErrorCode  string `json:"error_code"`
}

// parseComposition turns a composition event into an IVS event; only the
// session's start, end and failure are applied.
func parseComposition(env envelope) (ivslive.IVSEvent, error) {
	var d compositionChange
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return ivslive.IVSEvent{}, fmt.Errorf("detail: %w", err)
	}
	switch d.EventName {
	case ivslive.IVSEventCompositionStart, ivslive.IVSEventCompositionEnd, ivslive.IVSEventCompositionFailure:
	default:
		return ivslive.IVSEvent{}, fmt.Errorf("%w: composition event_name %q", errIgnored, ivslive.StoredText(d.EventName, 64))
	}
	ev := ivslive.IVSEvent{ID: env.ID, Name: d.EventName, StageARN: d.StageArn, ChannelARN: d.ChannelArn, ErrorCode: d.ErrorCode}
	if len(env.Resources) > 0 {
		ev.CompositionARN = env.Resources[0]
	}
	switch {
	case ev.ID == "":
		return ivslive.IVSEvent{}, errors.New("id is missing")
	case !strings.HasPrefix(ev.CompositionARN, "arn:") || !strings.Contains(ev.CompositionARN, ":composition/"):
		return ivslive.IVSEvent{}, fmt.Errorf("resources[0] %q is not a composition ARN", ivslive.StoredText(ev.CompositionARN, 100))
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"id", ev.ID, maxIDLength}, {"resources[0]", ev.CompositionARN, maxARNLength}, {"detail.stage_arn", ev.StageARN, maxARNLength},
		{"detail.destination_channel_arn", ev.ChannelARN, maxARNLength}, {"detail.error_code", ev.ErrorCode, maxErrorCodeSize}} {
		if err := ivslive.CheckID(f.name, f.v, f.max); err != nil {
			return ivslive.IVSEvent{}, err
		}
	}
	var err error
	if ev.Time, err = eventTime(d.EventTime, env.Time); err != nil {
		return ivslive.IVSEvent{}, err
	}
	return ev, nil
}
