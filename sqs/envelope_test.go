package sqs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
)

const sample = `{"version":"0","id":"6f8e-1","detail-type":"IVS Stage Update","source":"aws.ivs","account":"123456789012",` +
	`"time":"2025-04-23T06:36:54Z","region":"us-east-1","resources":["arn:aws:ivs:us-east-1:123456789012:stage/oWXSOfbOLMte"],` +
	`"detail":{"session_id":"st-1CVugbu2cf2n8","event_name":"Participant Published","event_time":"2025-04-23T06:36:53Z","user_id":"","participant_id":"03JY4smU3eXc"}}`

// The event AWS documents parses into the domain's event, timed by
// detail.event_time.
func TestParseEvent(t *testing.T) {
	ev, err := parseEvent(sample)
	if err != nil {
		t.Fatal(err)
	}
	want := ivslive.IVSEvent{ID: "6f8e-1", Time: time.Date(2025, 4, 23, 6, 36, 53, 0, time.UTC),
		StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/oWXSOfbOLMte", SessionID: "st-1CVugbu2cf2n8",
		Name: ivslive.IVSEventPublished, ParticipantID: "03JY4smU3eXc"}
	if ev != want {
		t.Errorf("event = %+v\nwant    %+v", ev, want)
	}
}

const compositionSample = `{"version":"0","id":"c-1","detail-type":"IVS Composition State Change","source":"aws.ivs",` +
	`"time":"2025-04-23T07:00:01Z","resources":["arn:aws:ivs:us-east-1:123456789012:composition/AbCdEf123456"],` +
	`"detail":{"event_name":"Session End","stage_arn":"arn:aws:ivs:us-east-1:123456789012:stage/oWXSOfbOLMte",` +
	`"destination_channel_arn":"arn:aws:ivs:us-east-1:123456789012:channel/Ch4nnel","event_time":"2025-04-23T07:00:00Z",` +
	`"composition_arn":"arn:aws:ivs:us-east-1:123456789012:composition/AbCdEf123456"}}`

// Composition events pass too (the playback side follows its composition);
// their other event names are ignored.
func TestParseCompositionEvent(t *testing.T) {
	ev, err := parseEvent(compositionSample)
	if err != nil {
		t.Fatal(err)
	}
	want := ivslive.IVSEvent{ID: "c-1", Time: time.Date(2025, 4, 23, 7, 0, 0, 0, time.UTC), Name: ivslive.IVSEventCompositionEnd,
		StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/oWXSOfbOLMte", ChannelARN: "arn:aws:ivs:us-east-1:123456789012:channel/Ch4nnel",
		CompositionARN: "arn:aws:ivs:us-east-1:123456789012:composition/AbCdEf123456"}
	if ev != want {
		t.Errorf("event = %+v\nwant    %+v", ev, want)
	}
	if _, err := parseEvent(strings.Replace(compositionSample, "Session End", "Destination End", 1)); !errors.Is(err, errIgnored) {
		t.Errorf("Destination End: %v, want ignored", err)
	}
	if _, err := parseEvent(strings.Replace(compositionSample, "composition/AbCdEf123456\"]", "stage/x\"]", 1)); err == nil || errors.Is(err, errIgnored) {
		t.Errorf("a composition event on a stage resource: %v, want refused", err)
	}
}

// No body makes the parser panic, and whatever it accepts has the members
// the handlers rely on.
func FuzzParseEvent(f *testing.F) {
	f.Add(sample)
	f.Add(compositionSample)
	f.Add(`{"source":"aws.ivs","detail-type":"IVS Stage Update","detail":null}`)
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		ev, err := parseEvent(body)
		if err != nil {
			return
		}
		if ev.CompositionARN != "" {
			if ev.Time.IsZero() || ev.ID == "" {
				t.Errorf("accepted %q as %+v: no time or id", body, ev)
			}
			return
		}
		if ev.Time.IsZero() || !knownEvents[ev.Name] {
			t.Errorf("accepted %q as %+v: no time or name", body, ev)
		}
		if err := checkEvent(ev); err != nil {
			t.Errorf("accepted %q as %+v: %v", body, ev, err)
		}
	})
}
