package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/ivslive/ivslive/loadtest"
)

// TestLoadtestCommand runs "ivslive loadtest" against a server started the
// way users start it, and checks the report against what the server itself
// counted in /metrics: tokens issued, heartbeats, leaves, and the viewers
// left live (the silent ones).
func TestLoadtestCommand(t *testing.T) {
	t.Chdir(t.TempDir())
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey,
		"MAX_VIEWERS_PER_STAGE": "1000", "SCALE_UP_THRESHOLD": "1000", "RATE_LIMIT_HEARTBEAT_MAX": "0"})
	defer s.stop()

	var out, progress bytes.Buffer
	args := []string{"loadtest", "--url", s.url, "--viewers", "60", "--ramp", "500ms", "--duration", "2s",
		"--interval", "200ms", "--concurrency", "8", "--leave", "0.5", "--auth", "session", "--json"}
	env := map[string]string{"API_SECRET_KEY": testKey}
	if err := run(context.Background(), args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &progress); err != nil {
		t.Fatalf("loadtest: %v\n%s", err, progress.String())
	}
	var r loadtest.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), testKey) {
		t.Fatal("the report contains the key")
	}
	// How many join in 2 s is the machine's speed (57 of 60 under -race
	// beside other work); half of those joined leave.
	if r.Totals.Errors != 0 || r.Totals.Joined < 30 || r.Totals.Left != (r.Totals.Joined+1)/2 {
		t.Fatalf("totals %+v", r.Totals)
	}
	if !strings.Contains(progress.String(), "req/s") {
		t.Errorf("no progress on stderr: %q", progress.String())
	}

	_, fams := scrape(t, s.url+"/metrics", testKey)
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ivslive_tokens_issued_total", []string{"kind", "viewer"}, float64(r.Routes[loadtest.RouteViewerToken].Count)},
		{"ivslive_tokens_issued_total", []string{"kind", "publisher"}, float64(r.Routes[loadtest.RoutePublisher].Count)},
		{"ivslive_heartbeats_total", []string{"result", "ok"}, float64(r.Routes[loadtest.RouteHeartbeat].Count)},
		{"ivslive_sessions_closed_total", []string{"reason", "leave"}, float64(r.Totals.Left)},
		{"ivslive_viewers", nil, float64(r.Totals.Silent)},
	}
	for _, c := range checks {
		if c.want == 0 {
			t.Errorf("the report has no %s%v to compare", c.name, c.labels)
		}
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("server %s%v = %v, the load test says %v", c.name, c.labels, got, c.want)
		}
	}
	if a := r.Accuracy; a.Samples == 0 || a.WithinBounds < a.Samples-1 {
		t.Errorf("accuracy %d of %d samples", a.WithinBounds, a.Samples)
	}
}

// TestLoadtestNeedsAKey: without a key anywhere, the command says where to
// put one instead of sending unauthenticated requests.
func TestLoadtestNeedsAKey(t *testing.T) {
	t.Chdir(t.TempDir())
	err := run(context.Background(), []string{"loadtest", "--url", "http://127.0.0.1:1", "--duration", "1s"},
		func(string) (string, bool) { return "", false }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--key") {
		t.Fatalf("err = %v", err)
	}
}
