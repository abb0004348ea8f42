package webhook_test

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/webhook"
)

func TestEncode(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("x", 3600))
	arn := "arn:aws:ivs:us-east-1:123456789012:stage/a"
	two := 2
	for _, c := range []struct {
		in   ivslive.Event
		typ  string
		data string
	}{
		{ivslive.Event{Type: ivslive.EventPublisherLive, StageARN: arn, UserID: "host", ParticipantID: "p1"}, webhook.BroadcastStarted,
			`{"stageArn":"` + arn + `","userId":"host","participantId":"p1"}`},
		{ivslive.Event{Type: ivslive.EventPublisherEnded, StageARN: arn, UserID: "host", ParticipantID: "p1"}, webhook.BroadcastEnded,
			`{"stageArn":"` + arn + `","userId":"host","participantId":"p1"}`},
		{ivslive.Event{Type: ivslive.EventViewerJoined, StageARN: arn, UserID: "u", SessionID: "s", Viewers: &two}, webhook.ViewerJoined,
			`{"stageArn":"` + arn + `","userId":"u","sessionId":"s","viewers":2}`},
		{ivslive.Event{Type: ivslive.EventViewerLeft, StageARN: arn, UserID: "u", SessionID: "s", Reason: "leave", Viewers: &two}, webhook.ViewerLeft,
			`{"stageArn":"` + arn + `","userId":"u","sessionId":"s","reason":"leave","viewers":2}`},
		{ivslive.Event{Type: ivslive.EventViewerExpired, StageARN: arn, UserID: "u", SessionID: "s", Reason: "timeout"}, webhook.ViewerLeft,
			`{"stageArn":"` + arn + `","userId":"u","sessionId":"s","reason":"timeout","viewers":null}`},
		{ivslive.Event{Type: ivslive.EventStageCreated, StageARN: arn, Viewers: new(int)}, webhook.StageCreated, `{"stageArn":"` + arn + `"}`},
		{ivslive.Event{Type: ivslive.EventStageDraining, StageARN: arn}, webhook.StageDraining, `{"stageArn":"` + arn + `"}`},
		{ivslive.Event{Type: ivslive.EventStageDeleted, StageARN: arn, Count: 0, Reason: "scaled down"}, webhook.StageDeleted,
			`{"stageArn":"` + arn + `","viewersClosed":0,"reason":"scaled down"}`},
		{ivslive.Event{Type: ivslive.EventReplicationStarted, StageARN: arn, ParticipantID: "p1"}, webhook.ReplicationStarted,
			`{"stageArn":"` + arn + `","participantId":"p1"}`},
		{ivslive.Event{Type: ivslive.EventReplicationStopped, StageARN: arn, ParticipantID: "p1"}, webhook.ReplicationStopped,
			`{"stageArn":"` + arn + `","participantId":"p1"}`},
		{ivslive.Event{Type: ivslive.EventHistoryDeadLettered, SessionID: "s", UserID: "u", StageARN: arn, Reason: "invalid UTF-8"}, webhook.HistoryDeadLettered,
			`{"sessionId":"s","userId":"u","stageArn":"` + arn + `","reason":"invalid UTF-8"}`},
	} {
		c.in.Time = at
		ev, ok, err := webhook.Encode(c.in, "msg_1")
		if err != nil || !ok {
			t.Fatalf("%s: ok %v err %v", c.in.Type, ok, err)
		}
		var m struct {
			ID, Type, Timestamp string
			Version             int
			Data                json.RawMessage
		}
		if err := json.Unmarshal(ev.Payload, &m); err != nil {
			t.Fatal(err)
		}
		if m.ID != "msg_1" || m.Type != c.typ || m.Version != 1 || m.Timestamp != "2026-03-01T11:00:00.123Z" || string(m.Data) != c.data {
			t.Errorf("%s: %s", c.in.Type, ev.Payload)
		}
		if ev.Type != c.typ || ev.StageARN != c.in.StageARN || !ev.Time.Equal(at) {
			t.Errorf("%s: %+v", c.in.Type, ev)
		}
	}
	for _, e := range []ivslive.Event{
		{Type: ivslive.EventStageActive, StageARN: arn},
		{Type: ivslive.EventInstanceCounters},
		{Type: ivslive.EventViewerExpired, StageARN: arn, Count: 500, Reason: "timeout"}, // a summary: webhooks get each viewer
	} {
		if _, ok, _ := webhook.Encode(e, "msg_x"); ok {
			t.Errorf("%s (%+v) became a webhook", e.Type, e)
		}
	}
}

func TestNewID(t *testing.T) {
	now := time.Now()
	ids := make([]string, 0, 1000)
	seen := map[string]bool{}
	for i := range 1000 {
		id := webhook.NewID(now.Add(time.Duration(i) * time.Millisecond))
		if len(id) != 30 || id[:4] != "msg_" || seen[id] {
			t.Fatalf("id %q: want msg_ and 26 characters, unique", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Error("ids of later events do not sort after earlier ones")
	}
	if diff := cmp.Diff(webhook.NewID(time.UnixMilli(0))[:14], "msg_0000000000"); diff != "" {
		t.Errorf("the time prefix of the epoch: %s", diff)
	}
}
