package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivslive/ivslive/internal/testenv"
)

// Joins of BenchmarkJoinsWithSlowWebhook: joinRate per second for joinCount.
const (
	joinRate   = 10_000
	joinCount  = 10_000
	joinStages = 10
)

// BenchmarkJoinsWithSlowWebhook offers 10,000 viewer joins in one second
// (open loop, paced) to the real server in this process (run, its
// listener, the whole stack) and reports the join latency, with webhooks
// off, with a target that answers at once, and with one that takes 2 s per
// answer (with 16 connections: a target that is all but down). Then the
// slow target recovers and the time until its queue is empty is reported.
// Redis mode (presence and the webhook queue in Redis, history in SQLite)
// and embedded mode (memory presence, the queue in SQLite). Use
// -benchtime 1x.
//
//	go test -run '^$' -bench JoinsWithSlowWebhook -benchtime 1x ./cmd/ivslive
func BenchmarkJoinsWithSlowWebhook(b *testing.B) {
	for _, mode := range []string{"redis", "embedded"} {
		for _, target := range []string{"off", "fast", "slow"} {
			b.Run(mode+"/"+target, func(b *testing.B) { benchJoins(b, mode, target) })
		}
	}
}

func benchJoins(b *testing.B, mode, target string) {
	var fast atomic.Bool
	fast.Store(target != "slow")
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fast.Load() {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rx.Close()
	env := map[string]string{
		"API_PORT": "0", "API_SECRET_KEY": testKey, "IVSLIVE_DATA_DIR": b.TempDir(), "LOG_LEVEL": "error",
		"RATE_LIMIT_MAX_REQUESTS": "0", "AUTO_SCALE_ENABLED": "false", "MAX_VIEWERS_PER_STAGE": "1000", "SCALE_UP_THRESHOLD": "1000",
	}
	if mode == "redis" {
		_, prefix := testenv.Redis(b)
		env["REDIS_URL"], env["REDIS_KEY_PREFIX"] = testenv.RedisURL(), prefix
	}
	if target != "off" {
		env["WEBHOOK_URLS"] = rx.URL + "/hooks"
		env["WEBHOOK_SECRET"] = "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("b", 32)))
		env["WEBHOOK_ALLOW_PRIVATE"] = "true"
	}
	s := start(b, env)
	defer s.stop()
	c := client{url: s.url, key: testKey, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}, Timeout: 30 * time.Second}}
	if status, data, err := c.do("POST", "/api/token/publisher", map[string]string{"userId": "host"}); err != nil || status != 200 {
		b.Fatalf("publisher: %d %v %s", status, err, data)
	}
	var stages []string
	for i := range joinStages {
		status, data, err := c.do("POST", "/api/stage", map[string]string{"name": fmt.Sprint("bench-", i)})
		var created struct{ Stage struct{ ARN string } }
		json.Unmarshal(data, &created)
		if err != nil || status != 201 {
			b.Fatalf("stage: %d %v %s", status, err, data)
		}
		stages = append(stages, created.Stage.ARN)
	}

	b.ResetTimer()
	lat := make([]time.Duration, joinCount)
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 512)
	began := time.Now()
	for i := range joinCount {
		// The load's schedule (joinRate a second), not a wait for an
		// outcome. Sleep only when a millisecond ahead: shorter sleeps
		// overshoot.
		if ahead := time.Until(began.Add(time.Duration(i) * time.Second / joinRate)); ahead > time.Millisecond {
			time.Sleep(ahead) // the load schedule, see above
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			body := `{"userId":"bv` + fmt.Sprint(i) + `","stageArn":"` + stages[i%len(stages)] + `"}`
			req, _ := http.NewRequest("POST", s.url+"/api/token/viewer", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Api-Key", testKey)
			t0 := time.Now()
			resp, err := c.http.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body) // to the end, so the connection is reused
				resp.Body.Close()
			}
			lat[i] = time.Since(t0)
			if err != nil || resp.StatusCode != 200 {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(joinCount)/took.Seconds(), "joins/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(failed.Load()), "errors")
	if target == "off" {
		return
	}
	queued := func() int64 {
		_, data, _ := c.do("GET", "/api/webhooks", nil)
		var w struct{ Targets []struct{ Queued int64 } }
		json.Unmarshal(data, &w)
		if len(w.Targets) != 1 {
			return -1
		}
		return w.Targets[0].Queued
	}
	b.ReportMetric(float64(queued()), "queued-after")
	fast.Store(true)
	recovered := time.Now()
	testenv.Eventually(b, 3*time.Minute, "the queue drained", func() bool { return queued() == 0 })
	b.ReportMetric(time.Since(recovered).Seconds(), "drain-s")
}
