package http_test

import (
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/redis"
)

func limited(api, heartbeats int) apitest.Options {
	return apitest.Options{
		Limiter: memory.NewRateLimiter(nil),
		HTTP: func(c *ivshttp.Config) {
			c.RateLimit = ivslive.RateLimit{Requests: api, Period: time.Minute}
			c.HeartbeatLimit = ivslive.RateLimit{Requests: heartbeats, Period: time.Minute}
			c.TrustProxy = ivshttp.TrustProxy{All: true}
		},
	}
}

func TestRateLimitAnswersInTheEnvelope(t *testing.T) {
	env := apitest.New(t, limited(3, 100))
	for i := 0; i < 3; i++ {
		r := env.Must(t, 200, "GET", "/api/stats", nil)
		if got := r.Header.Get("RateLimit-Remaining"); got != strconv.Itoa(2-i) || r.Header.Get("RateLimit-Limit") != "3" {
			t.Fatalf("request %d: RateLimit-Remaining %q, Limit %q", i+1, got, r.Header.Get("RateLimit-Limit"))
		}
	}
	r := env.Do(t, "GET", "/api/stats", nil)
	checkEnvelope(t, r, 429, "TOO_MANY_REQUESTS")
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 21 || r.Header.Get("RateLimit-Reset") == "" {
		t.Fatalf("Retry-After %q, RateLimit-Reset %q", r.Header.Get("Retry-After"), r.Header.Get("RateLimit-Reset"))
	}
	// Health and pages outside /api are not limited... except /api/health,
	// as with the Node server; /health stays open for load balancers.
	env.Must(t, 200, "GET", "/health", nil)
}

// A flood of heartbeats from one address and key spends their own budget
// only: another key from another address is served, and so are its
// ordinary requests.
func TestHeartbeatFloodDoesNotThrottleOthers(t *testing.T) {
	env := apitest.New(t, limited(50, 20))
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "a"})
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "b"})
	hb := func(user, key, ip string) int {
		return env.Do(t, "POST", "/api/viewer/heartbeat", map[string]string{"userId": user, "stageArn": env.Live.MasterARN()},
			"X-Api-Key", key, "X-Forwarded-For", ip).Status
	}
	refused := 0
	for i := 0; i < 40; i++ {
		if hb("a", apitest.ViewerKey, "198.51.100.1") == 429 {
			refused++
		}
	}
	if refused != 20 {
		t.Fatalf("%d of 40 flood heartbeats refused, want 20 (budget 20)", refused)
	}
	if s := hb("b", apitest.Key, "198.51.100.2"); s != 200 {
		t.Fatalf("another key from another address: %d", s)
	}
	// The flooding key's ordinary budget is untouched by its heartbeats.
	env.Must(t, 200, "GET", "/api/viewer/duration?userId=a&stageArn="+esc(env.Live.MasterARN()), nil,
		"X-Api-Key", apitest.ViewerKey, "X-Forwarded-For", "198.51.100.1")
}

// With Redis unreachable the limiter lets requests through: no 500s.
func TestRateLimiterFailsOpen(t *testing.T) {
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	defer dead.Close()
	o := limited(1, 1)
	o.Limiter = redis.NewRateLimiter(dead, "ivslive:test:")
	env := apitest.New(t, o)
	failures := 0
	env.Server.OnLimiterError = func() { failures++ }
	for i := 0; i < 3; i++ {
		env.Must(t, 200, "GET", "/api/stats", nil)
	}
	if failures != 3 {
		t.Fatalf("%d limiter failures counted, want 3", failures)
	}
}
