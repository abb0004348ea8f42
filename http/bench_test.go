package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/metrics"
)

const benchViewers = 10_000

// benchEnv is a server with benchViewers seated viewers and the bodies of
// their heartbeats.
func benchEnv(b *testing.B, o apitest.Options) (*apitest.Env, http.Handler, [][]byte) {
	b.Helper()
	o.Live = apitestCapacity(1 << 30)
	env := apitest.New(b, o)
	// Metrics as the server wires them: every request and heartbeat counted.
	m := metrics.New(prometheus.NewRegistry(), env.Live.Stats, nil)
	env.Live.Observer = m
	env.Server.Observe = func(r *http.Request, status int, d time.Duration) {
		m.ObserveRequest(r.Pattern, r.Method, status, d)
	}
	env.Must(b, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	ctx := context.Background()
	bodies := make([][]byte, benchViewers)
	for i := range bodies {
		user := fmt.Sprint("v", i)
		res, err := env.Live.Presence.Join(ctx, ivslive.JoinRequest{UserID: user, SessionID: "s" + user, Now: time.Now(),
			Threshold: 1 << 30, Capacity: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		bodies[i], _ = json.Marshal(map[string]string{"userId": user, "stageArn": res.Session.StageARN})
	}
	return env, env.Server.Handler(), bodies
}

// benchConcurrency is the number of heartbeats in flight, as the 64
// connections of the Redis target: enough for concurrent calls to share
// Redis round trips, as they do in a server under load.
const benchConcurrency = 64

// serveHeartbeats runs b.N heartbeats through h, benchConcurrency at a
// time, checking each answer.
func serveHeartbeats(b *testing.B, h http.Handler, bodies [][]byte) {
	var next atomic.Int64
	b.SetParallelism(max(1, benchConcurrency/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !postOK(b, h, "/api/viewer/heartbeat", bodies[next.Add(1)%int64(len(bodies))]) {
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// postOK sends one JSON POST with the test key through h, and reports
// (and fails b) unless it answers 200.
func postOK(b *testing.B, h http.Handler, path string, body []byte) bool {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", apitest.Key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Errorf("%s: status %d: %s", path, rec.Code, rec.Body)
		return false
	}
	return true
}

// BenchmarkHeartbeat measures POST /api/viewer/heartbeat through the whole
// handler stack (request id, access log, metrics, headers, CORS, rate
// limit, auth, decoding, presence, envelope), next to its floors: a bare net/http handler
// that decodes the same JSON and updates a map, and one that makes exactly
// one Redis round trip (ZADD XX). No network: the handlers are called
// directly, so the numbers are the server's own cost.
func BenchmarkHeartbeat(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		_, h, bodies := benchEnv(b, apitest.Options{Limiter: memory.NewRateLimiter(nil), HTTP: benchLimits})
		serveHeartbeats(b, h, bodies)
	})
	b.Run("floor-map", func(b *testing.B) {
		_, _, bodies := benchEnv(b, apitest.Options{})
		serveHeartbeats(b, floorMap(), bodies)
	})
	b.Run("redis", func(b *testing.B) {
		_, h, bodies := benchEnv(b, apitest.Options{Presence: apitest.RedisPresence, Limiter: redisLimiter(b),
			HeartbeatLimiter: memory.NewRateLimiter(nil), HTTP: benchLimits})
		serveHeartbeats(b, h, bodies)
	})
	b.Run("floor-redis", func(b *testing.B) {
		client, prefix := testenv.Redis(b)
		_, _, bodies := benchEnv(b, apitest.Options{})
		serveHeartbeats(b, floorRedis(b, client, prefix), bodies)
	})
}

// benchLimits sets budgets high enough never to refuse a benchmark request,
// so the limiter's cost is measured, not its refusals.
func benchLimits(c *ivshttpConfig) {
	c.RateLimit = ivslive.RateLimit{Requests: 1 << 30, Period: time.Minute}
	c.HeartbeatLimit = ivslive.RateLimit{Requests: 1 << 30, Period: time.Minute}
}

type heartbeatBody struct {
	UserID   string `json:"userId"`
	StageARN string `json:"stageArn"`
}

// floorMap is the least a heartbeat handler can do in memory.
func floorMap() http.Handler {
	var mu sync.Mutex
	seen := map[string]int64{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var hb heartbeatBody
		if err := json.NewDecoder(r.Body).Decode(&hb); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		seen[hb.StageARN+"|"+hb.UserID] = time.Now().UnixMilli()
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"success":true}`))
	})
}

// floorRedis is the least a heartbeat handler can do with Redis: one
// round trip (ZADD XX on a sorted set).
func floorRedis(b *testing.B, client *goredis.Client, prefix string) http.Handler {
	ctx := context.Background()
	for i := 0; i < benchViewers; i++ {
		client.ZAdd(ctx, prefix+"floor", goredis.Z{Score: 1, Member: fmt.Sprint("v", i)})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var hb heartbeatBody
		if err := json.NewDecoder(r.Body).Decode(&hb); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if err := client.ZAddXX(r.Context(), prefix+"floor", goredis.Z{Score: float64(time.Now().UnixMilli()), Member: hb.UserID}).Err(); err != nil {
			http.Error(w, err.Error(), 503)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"success":true}`))
	})
}
