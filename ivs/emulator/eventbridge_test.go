package emulator

import (
	"encoding/json"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive/internal/testenv"
)

// The event is the JSON EventBridge delivers, key for key.
func TestEventBridgeEventJSON(t *testing.T) {
	h := newHarness(t, Options{AccountID: "111122223333", Region: "eu-west-1"})
	bridge := h.eventLog(t)
	st := h.createStage(t, "json")
	arn := aws.ToString(st.Arn)
	h.em.SetPublishing(arn, "p1", true)
	ev := bridge.wait(t, "Participant Published", "p1")
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now().UTC().Format("2006-01-02T15:04:05Z")
	want := map[string]any{
		"version": "0", "id": ev.ID, "detail-type": "IVS Stage Update", "source": "aws.ivs",
		"account": "111122223333", "time": now, "region": "eu-west-1", "resources": []any{arn},
		"detail": map[string]any{"session_id": h.activeSession(t, arn), "event_name": "Participant Published",
			"participant_id": "p1", "user_id": "", "event_time": now},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event JSON (-want +got):\n%s", diff)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(ev.ID) {
		t.Errorf("id %q is not a UUID", ev.ID)
	}
}

// A slow sink loses events past its buffer, never holds up the emulator or
// the other sinks; an ended subscription gets nothing more.
func TestEventSinksNeverBlock(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "busy")
	arn := aws.ToString(st.Arn)
	release := make(chan struct{})
	var once sync.Once
	// Registered after the harness, so it runs before Close, which would
	// otherwise wait for the blocked sink if the test fails early.
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	var slow atomic.Int64
	h.em.SubscribeEvents(func(EventBridgeEvent) {
		<-release
		slow.Add(1)
	})
	fast := h.eventLog(t)
	var ended atomic.Int64
	stop := h.em.SubscribeEvents(func(EventBridgeEvent) { ended.Add(1) })
	stop()

	// 1,800 events, more than a sink's buffer, in rounds the fast sink
	// (which has the same buffer) can keep up with.
	const rounds, toggles = 3, 300
	for r := 1; r <= rounds; r++ {
		for range toggles {
			h.em.SetPublishing(arn, "p", true)
			h.em.SetPublishing(arn, "p", false)
		}
		testenv.Eventually(t, 10*time.Second, "every event at the fast sink", func() bool {
			return len(fast.names("p")) == 2*toggles*r
		})
	}
	names := fast.names("p")
	for i, n := range names {
		want := "Participant Published"
		if i%2 == 1 {
			want = "Participant Unpublished"
		}
		if n != want {
			t.Fatalf("event %d is %s, want %s: out of order", i, n, want)
		}
	}
	once.Do(func() { close(release) })
	testenv.Eventually(t, 5*time.Second, "the slow sink draining", func() bool { return slow.Load() >= sinkBuffer })
	if n := slow.Load(); n > sinkBuffer+1 {
		t.Errorf("slow sink got %d events, want at most its buffer (%d) and the one it held", n, sinkBuffer)
	}
	if n := ended.Load(); n != 0 {
		t.Errorf("an ended subscription got %d events", n)
	}
}
