package main

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs/emulator"
)

// The program consumes IVS's events in embedded mode with no setting: the
// emulator's queue, the same SQS client and consumer as AWS mode. A host
// that publishes on the master stage is applied once, and the counters say
// so on /metrics.
func TestServeConsumesIVSEvents(t *testing.T) {
	t.Chdir(t.TempDir())
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey})
	defer s.stop()
	s.key = testKey
	_, e := call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`)
	var tok struct {
		StageARN      string `json:"stageArn"`
		ParticipantID string `json:"participantId"`
	}
	if err := json.Unmarshal(e.Data, &tok); err != nil || tok.StageARN == "" {
		t.Fatalf("publisher token %s: %v", e.Data, err)
	}
	body, _ := json.Marshal(map[string]any{"stageArn": tok.StageARN, "participantId": tok.ParticipantID, "publishing": true})
	if status, _ := call(t, s, "POST", "/ivs/_emulator/publishing", string(body)); status != 200 {
		t.Fatalf("publish through the emulator: %d", status)
	}
	testenv.Eventually(t, 20*time.Second, "the Published event applied", func() bool {
		_, fams := scrape(t, s.url+"/metrics", testKey)
		return value(fams, "ivslive_ivs_events_applied_total", "event", "Participant Published") == 1
	})
	_, fams := scrape(t, s.url+"/metrics", testKey)
	if got := value(fams, "ivslive_ivs_events_received_total"); got != 1 {
		t.Errorf("ivslive_ivs_events_received_total = %v, want 1", got)
	}
	_, e = call(t, s, "GET", "/api/health", "")
	var h struct {
		Components map[string]struct {
			Status string         `json:"status"`
			Mode   string         `json:"mode"`
			Info   map[string]any `json:"info"`
		} `json:"components"`
	}
	json.Unmarshal(e.Data, &h)
	if c := h.Components["ivsEvents"]; c.Status != "up" || c.Mode != "emulator" || c.Info["lastReceive"] == nil {
		t.Errorf("health ivsEvents = %+v, want up, emulator, with the last receive", c)
	}
}

// Two instances on one emulator, Redis and PostgreSQL both consume the
// emulator's event queue (the default from IVS_ENDPOINT), and between them
// apply every event once.
func TestTwoInstancesApplyEachIVSEventOnce(t *testing.T) {
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	ivs := httptest.NewServer(em)
	t.Cleanup(ivs.Close)
	_, prefix := testenv.Redis(t)
	env := map[string]string{
		"API_PORT": "0", "API_SECRET_KEY": testKey, "IVS_ENDPOINT": ivs.URL,
		"REDIS_URL": testenv.RedisURL(), "REDIS_KEY_PREFIX": prefix, "DATABASE_URL": testenv.PostgresURL(t), "AUTO_SCALE_ENABLED": "false",
	}
	a := startIn(t, env)
	defer a.stop()
	b := startIn(t, env)
	defer b.stop()
	_, e := call(t, a, "POST", "/api/token/publisher", `{"userId":"host"}`)
	var tok struct {
		StageARN string `json:"stageArn"`
	}
	if err := json.Unmarshal(e.Data, &tok); err != nil || tok.StageARN == "" {
		t.Fatalf("publisher token %s: %v", e.Data, err)
	}
	const events = 20
	for i := range events {
		em.SetPublishing(tok.StageARN, "p", i%2 == 0)
	}
	applied := func(s server) float64 {
		_, fams := scrape(t, s.url+"/metrics", testKey)
		return max(value(fams, "ivslive_ivs_events_applied_total", "event", "Participant Published"), 0) +
			max(value(fams, "ivslive_ivs_events_applied_total", "event", "Participant Unpublished"), 0)
	}
	testenv.Eventually(t, 30*time.Second, "every event applied and deleted", func() bool {
		return applied(a)+applied(b) >= events && em.EventQueueStats().Queued == 0
	})
	if n := applied(a) + applied(b); n != events {
		t.Errorf("the instances applied %v events between them, want %d", n, events)
	}
}
