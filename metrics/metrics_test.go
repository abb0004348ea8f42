package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestObserveRequest: observations land in the series of their labels,
// through the cache, and a method a client made up becomes "other" instead
// of a new series.
func TestObserveRequest(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, nil, nil)
	for range 3 {
		m.ObserveRequest("POST /api/viewer/heartbeat", "POST", 200, time.Millisecond)
	}
	m.ObserveRequest("/", "BREW", 404, time.Millisecond)
	m.ObserveRequest("/", "FOO", 404, time.Millisecond)
	m.ObserveRequest("POST /api/viewer/heartbeat", "POST", 503, time.Millisecond)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "ivslive_http_request_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			key := ""
			for _, l := range s.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + " "
			}
			got[key] = s.GetHistogram().GetSampleCount()
		}
	}
	want := map[string]uint64{
		"method=POST route=POST /api/viewer/heartbeat status=200 ": 3,
		"method=POST route=POST /api/viewer/heartbeat status=503 ": 1,
		"method=other route=/ status=404 ":                         2,
	}
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d observations, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if tokens, errs := m.Totals(); tokens != 0 || errs != 1 {
		t.Errorf("totals: tokens %d, API errors %d; want 0 and 1", tokens, errs)
	}
}
