package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads /metrics with the given key and returns the families.
func scrape(t *testing.T, url, key string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return 200, fams
}

// value returns the value of the series of family name whose labels
// include every pair in labels, or -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func TestMetricsAfterAScriptedScenario(t *testing.T) {
	t.Chdir(t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	s := start(t, map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "METRICS_ADDR": metricsAddr,
		"API_KEYS": "grafana:read:read-key-0123456789,web:viewer:viewer-key-0123456789"})
	defer s.stop()
	s.key = testKey
	call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`)
	var stage string
	for i := 0; i < 3; i++ {
		_, e := call(t, s, "POST", "/api/token/viewer", fmt.Sprintf(`{"userId":"v%d"}`, i))
		var d struct {
			StageARN string `json:"stageArn"`
		}
		json.Unmarshal(e.Data, &d)
		stage = d.StageARN
	}
	call(t, s, "POST", "/api/viewer/leave", `{"userId":"v0","stageArn":"`+stage+`"}`)
	call(t, s, "POST", "/api/viewer/heartbeat", `{"userId":"v1","stageArn":"`+stage+`"}`)
	call(t, s, "POST", "/api/viewer/heartbeat", `{"userId":"nobody","stageArn":"`+stage+`"}`)

	for key, want := range map[string]int{"": 401, "viewer-key-0123456789": 403} {
		if status, _ := scrape(t, s.url+"/metrics", key); status != want {
			t.Errorf("/metrics with key %q: %d, want %d", key, status, want)
		}
	}
	_, fams := scrape(t, s.url+"/metrics", "read-key-0123456789")
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ivslive_tokens_issued_total", []string{"kind", "viewer", "strategy", "key-pair"}, 3},
		{"ivslive_tokens_issued_total", []string{"kind", "publisher"}, 1},
		{"ivslive_sessions_opened_total", nil, 3},
		{"ivslive_sessions_closed_total", []string{"reason", "leave"}, 1},
		{"ivslive_heartbeats_total", []string{"result", "ok"}, 1},
		{"ivslive_heartbeats_total", []string{"result", "unknown"}, 1},
		{"ivslive_viewers", nil, 2},
		{"ivslive_stage_viewers", []string{"stage_arn", stage, "state", "active"}, 2},
		{"ivslive_stages", []string{"state", "active", "kind", "master"}, 1},
		{"ivslive_publisher_live", nil, 1},
		{"ivslive_capacity_left", nil, 9998}, // MAX_VIEWERS_PER_STAGE defaults to IVS's 10,000
		{"ivslive_history_backlog", nil, 0},
		{"ivslive_http_request_duration_seconds", []string{"route", "POST /api/token/viewer", "status", "200"}, 3},
		{"ivslive_http_request_duration_seconds", []string{"route", "POST /api/viewer/heartbeat", "status", "404"}, 1},
		{"ivslive_ivs_calls_total", []string{"operation", "CreateStage", "code", "ok"}, 1},
		{"ivslive_ivs_calls_total", []string{"operation", "ImportPublicKey", "code", "ok"}, 1},
		{"ivslive_leader", nil, 1},
		{"ivslive_websocket_clients", nil, 0},
	}
	for _, c := range checks {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The same metrics, without a key, on METRICS_ADDR.
	status, plain := scrape(t, "http://"+metricsAddr+"/metrics", "")
	if status != 200 || value(plain, "ivslive_viewers") != 2 {
		t.Fatalf("METRICS_ADDR: %d, viewers %v", status, value(plain, "ivslive_viewers"))
	}
}
