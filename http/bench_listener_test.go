package http_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/loadtest"
	"github.com/ivslive/ivslive/memory"
)

// listenerRound is how long each server is loaded per round, after
// listenerWarmup (the viewers' joins, not counted), and listenerRounds how
// many rounds BenchmarkHeartbeatListener alternates.
const (
	listenerWarmup = time.Second
	listenerRound  = 2 * time.Second
	listenerRounds = 5
)

// BenchmarkHeartbeatListener loads real loopback listeners with the load
// generator (ivslive loadtest's engine, closed loop: 64 requests in flight
// over 1,000 viewers who joined during a warmup that is not counted), all on
// the same machine: the full server on
// the memory twin against its floor (a bare net/http handler that decodes
// the same JSON and updates a map), and on the Redis twin against its floor
// (the same, making one ZADD XX round trip instead). The two servers of a
// pair take turns, listenerRounds rounds of listenerRound each, in
// alternating order, so drift in the machine's speed hits both alike; the
// medians and their ratio are reported. Use -benchtime 1x.
//
//	go test -run '^$' -bench HeartbeatListener -benchtime 1x ./http
func BenchmarkHeartbeatListener(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		env, _, _ := benchEnv(b, apitest.Options{Limiter: memory.NewRateLimiter(nil), HTTP: benchLimits})
		var mu sync.Mutex
		seen := map[string]int64{}
		floor := floorServer(b, func(r *http.Request, hb heartbeatBody) error {
			mu.Lock()
			seen[hb.StageARN+"|"+hb.UserID] = time.Now().UnixMilli()
			mu.Unlock()
			return nil
		})
		comparePair(b, env.URL, floor)
	})
	b.Run("redis", func(b *testing.B) {
		env, _, _ := benchEnv(b, apitest.Options{Presence: apitest.RedisPresence, Limiter: redisLimiter(b),
			HeartbeatLimiter: memory.NewRateLimiter(nil), HTTP: benchLimits})
		client, prefix := testenv.Redis(b)
		floor := floorServer(b, func(r *http.Request, hb heartbeatBody) error {
			return client.ZAddXX(r.Context(), prefix+"floor", goredis.Z{Score: float64(time.Now().UnixMilli()), Member: hb.UserID}).Err()
		})
		comparePair(b, env.URL, floor)
	})
}

// comparePair loads server and floor in alternating rounds and reports the
// server's median heartbeats/s and p99, the floor's, and their ratio.
func comparePair(b *testing.B, server, floor string) {
	b.Helper()
	var srv, flr []*loadtest.RouteReport
	for b.Loop() {
		for i := range listenerRounds {
			if i%2 == 0 {
				srv, flr = append(srv, loadOnce(b, server)), append(flr, loadOnce(b, floor))
			} else {
				flr, srv = append(flr, loadOnce(b, floor)), append(srv, loadOnce(b, server))
			}
		}
	}
	s, f := median(srv), median(flr)
	b.ReportMetric(s.RPS, "req/s")
	b.ReportMetric(s.LatencyMs.P99, "p99-ms")
	b.ReportMetric(f.RPS, "floor-req/s")
	b.ReportMetric(f.LatencyMs.P99, "floor-p99-ms")
	b.ReportMetric(s.RPS/f.RPS, "ratio")
	b.ReportMetric(0, "ns/op") // fixed-length runs: req/s is the figure
}

// loadOnce runs the closed-loop load against url for one round and returns
// the heartbeat route's report.
func loadOnce(b *testing.B, url string) *loadtest.RouteReport {
	b.Helper()
	r, err := loadtest.Run(context.Background(), loadtest.Options{URL: url, Key: apitest.Key, Viewers: 1000,
		Duration: listenerWarmup + listenerRound, Warmup: listenerWarmup, Concurrency: 64, LeaveRatio: 1, Publisher: true, Timeout: time.Hour}, nil)
	if err != nil {
		b.Fatal(err)
	}
	hb := r.Routes[loadtest.RouteHeartbeat]
	if r.Totals.Errors != 0 || hb.Count == 0 {
		b.Fatalf("%s: errors %d (%v), heartbeats %d", url, r.Totals.Errors, hb.Errors, hb.Count)
	}
	return &hb
}

// median returns the round with the median requests/s.
func median(rs []*loadtest.RouteReport) *loadtest.RouteReport {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b *loadtest.RouteReport) int { return cmp.Compare(a.RPS, b.RPS) })
	return s[len(s)/2]
}

// floorServer serves what the load generator calls, each route doing the
// least it can; heartbeat runs beat after decoding the body.
func floorServer(b *testing.B, beat func(r *http.Request, hb heartbeatBody) error) string {
	b.Helper()
	var mu sync.Mutex
	joined := map[string]bool{}
	ok := func(w http.ResponseWriter, data string) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"success":true,"data":` + data + `}`))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/token/publisher", func(w http.ResponseWriter, r *http.Request) { ok(w, `{}`) })
	mux.HandleFunc("POST /api/token/viewer", func(w http.ResponseWriter, r *http.Request) {
		var hb heartbeatBody
		json.NewDecoder(r.Body).Decode(&hb)
		mu.Lock()
		joined[hb.UserID] = true
		mu.Unlock()
		ok(w, `{"stageArn":"floor"}`)
	})
	mux.HandleFunc("POST /api/viewer/leave", func(w http.ResponseWriter, r *http.Request) {
		var hb heartbeatBody
		json.NewDecoder(r.Body).Decode(&hb)
		mu.Lock()
		delete(joined, hb.UserID)
		mu.Unlock()
		ok(w, `{}`)
	})
	mux.HandleFunc("GET /api/stats/viewers", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(joined)
		mu.Unlock()
		ok(w, `{"totalViewers":`+strconv.Itoa(n)+`}`)
	})
	mux.HandleFunc("POST /api/viewer/heartbeat", func(w http.ResponseWriter, r *http.Request) {
		var hb heartbeatBody
		if err := json.NewDecoder(r.Body).Decode(&hb); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if err := beat(r, hb); err != nil {
			http.Error(w, fmt.Sprint(err), 503)
			return
		}
		ok(w, `{}`)
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv.URL
}
