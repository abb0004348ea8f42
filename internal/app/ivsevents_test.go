package app

import (
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/sqs"
)

// Receives that keep failing for a minute degrade /api/health.
func TestEventsCheckDegrades(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var st sqs.Status
	check := eventsCheck(func() sqs.Status { return st }, "aws", func() time.Time { return now })
	st = sqs.Status{FailingSince: now.Add(-30 * time.Second), LastError: "AccessDenied"}
	if _, err := check.Probe(t.Context()); err != nil {
		t.Fatalf("failing for 30 s: %v, want no degradation yet", err)
	}
	st.FailingSince = now.Add(-2 * time.Minute)
	info, err := check.Probe(t.Context())
	if ivslive.ErrorCode(err) != ivslive.EUNAVAILABLE || info["failingSince"] == nil {
		t.Fatalf("failing for 2 minutes: %v %v, want SERVICE_UNAVAILABLE with failingSince", info, err)
	}
}

// A queue URL that cannot be a queue's is refused at start, naming the
// variable; a real one loads.
func TestIVSEventsQueueURLIsChecked(t *testing.T) {
	for _, value := range []string{"my-queue", "https://sqs.us-east-1.amazonaws.com/my-queue", "ftp://host/1/q"} {
		_, err := LoadConfig(lookupFrom(map[string]string{"IVS_EVENTS_QUEUE_URL": value}), nil)
		if err == nil || !strings.Contains(err.Error(), "IVS_EVENTS_QUEUE_URL") {
			t.Errorf("IVS_EVENTS_QUEUE_URL=%s: error %v should name the variable", value, err)
		}
	}
	if _, err := LoadConfig(lookupFrom(map[string]string{"IVS_EVENTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/ivslive-ivs-events"}), nil); err != nil {
		t.Errorf("an AWS queue URL: %v", err)
	}
}
