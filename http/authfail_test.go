package http_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/redis"
)

// guarded is a server that allows 5 failed authentications per address a
// minute (one every 12 s after the burst), on a fake clock, with client
// addresses taken from X-Forwarded-For so one test can be many clients.
func guarded(t *testing.T, clock *apitest.Clock, limiter ivslive.RateLimiter) *apitest.Env {
	t.Helper()
	if limiter == nil {
		limiter = memory.NewRateLimiter(clock.Now)
	}
	return apitest.New(t, apitest.Options{Clock: clock, Limiter: limiter, HTTP: func(c *ivshttp.Config) {
		c.TrustProxy = ivshttp.TrustProxy{All: true}
		c.AuthFailureLimit = ivslive.RateLimit{Requests: 5, Period: time.Minute}
	}})
}

// keyed sends a request with key from address ip, the way each surface
// takes a key. A WebSocket request that passes auth gets the upgrade's own
// (non-JSON) answer, so bodies are decoded only when they are JSON.
func keyed(t *testing.T, env *apitest.Env, surface, key, ip string) *apitest.Response {
	t.Helper()
	path := surface
	req, _ := http.NewRequest("GET", env.URL+surface, nil)
	if surface == "/ws?apiKey" {
		path = "/ws?apiKey=" + url.QueryEscape(key)
		req, _ = http.NewRequest("GET", env.URL+path, nil)
	} else {
		req.Header.Set("X-Api-Key", key)
	}
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := env.HTTP.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	r := &apitest.Response{Status: resp.StatusCode, Header: resp.Header}
	r.Raw, _ = io.ReadAll(resp.Body)
	json.Unmarshal(r.Raw, r)
	return r
}

// Repeated bad keys from one address are refused with 429 and Retry-After
// on every surface that takes a key, whichever key comes next, until the
// budget refills; other addresses are not affected.
func TestBadKeysAreSlowedOnEverySurface(t *testing.T) {
	for _, surface := range []string{"/api/stats", "/ws", "/ws?apiKey", "/metrics", "/api/nope"} {
		t.Run(surface, func(t *testing.T) {
			clock := apitest.NewClock(time.Now())
			env := guarded(t, clock, nil)
			const attacker, other = "203.0.113.7", "198.51.100.9"
			for i := 0; i < 5; i++ {
				if r := keyed(t, env, surface, fmt.Sprintf("guess-%d", i), attacker); r.Status != 401 {
					t.Fatalf("bad key %d: %d, want 401", i+1, r.Status)
				}
			}
			r := keyed(t, env, surface, "guess-5", attacker)
			checkEnvelope(t, r, 429, "TOO_MANY_REQUESTS")
			retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if err != nil || retry < 1 || retry > 12 {
				t.Fatalf("Retry-After %q, want 1–12 s", r.Header.Get("Retry-After"))
			}
			// The right key from the blocked address learns nothing.
			if r := keyed(t, env, surface, apitest.Key, attacker); r.Status != 429 {
				t.Fatalf("the admin key from the blocked address: %d, want 429", r.Status)
			}
			if r := keyed(t, env, surface, apitest.Key, other); r.Status == 401 || r.Status == 429 {
				t.Fatalf("the admin key from another address: %d", r.Status)
			}
			clock.Add(time.Duration(retry) * time.Second)
			if r := keyed(t, env, surface, apitest.Key, attacker); r.Status == 401 || r.Status == 429 {
				t.Fatalf("the admin key after Retry-After: %d", r.Status)
			}
			// One more guess is checked, and then the address waits again.
			keyed(t, env, surface, "guess-6", attacker)
			if r := keyed(t, env, surface, "guess-7", attacker); r.Status != 429 {
				t.Fatalf("a guess right after the refill: %d, want 429", r.Status)
			}
		})
	}
}

// Successful requests spend nothing of the failure budget.
func TestSuccessfulRequestsAreNotCounted(t *testing.T) {
	clock := apitest.NewClock(time.Now())
	env := guarded(t, clock, nil)
	const ip = "203.0.113.8"
	for i := 0; i < 4; i++ {
		keyed(t, env, "/api/stats", "wrong", ip)
	}
	for i := 0; i < 50; i++ {
		if r := keyed(t, env, "/api/stats", apitest.ReadKey, ip); r.Status != 200 {
			t.Fatalf("good request %d: %d", i+1, r.Status)
		}
	}
	if r := keyed(t, env, "/api/stats", "wrong", ip); r.Status != 401 {
		t.Fatalf("fifth failure after 50 successes: %d, want 401 (successes must not spend the budget)", r.Status)
	}
	if r := keyed(t, env, "/api/stats", apitest.ReadKey, ip); r.Status != 429 {
		t.Fatalf("after the fifth failure: %d, want 429", r.Status)
	}
}

// An IPv6 client counts per /64: rotating addresses inside it does not
// buy more guesses.
func TestIPv6FailuresCountPerSlash64(t *testing.T) {
	env := guarded(t, apitest.NewClock(time.Now()), nil)
	for i := 1; i <= 5; i++ {
		keyed(t, env, "/api/stats", "wrong", fmt.Sprintf("2001:db8:1:2::%x", i))
	}
	if r := keyed(t, env, "/api/stats", "wrong", "2001:db8:1:2::ffff"); r.Status != 429 {
		t.Fatalf("sixth guess from the same /64: %d, want 429", r.Status)
	}
	if r := keyed(t, env, "/api/stats", apitest.Key, "2001:db8:1:3::1"); r.Status != 200 {
		t.Fatalf("another /64: %d", r.Status)
	}
}

// Two instances spend one budget in Redis: alternating between them buys
// at most one extra check per additional instance.
func TestFailureBudgetAcrossInstances(t *testing.T) {
	client, prefix := testenv.Redis(t)
	clock := apitest.NewClock(time.Now())
	a := guarded(t, clock, redis.NewRateLimiter(client, prefix))
	b := guarded(t, clock, redis.NewRateLimiter(client, prefix))
	checked := 0
	for i := 0; i < 20; i++ {
		env := a
		if i%2 == 1 {
			env = b
		}
		switch r := keyed(t, env, "/ws", fmt.Sprintf("guess-%d", i), "203.0.113.9"); r.Status {
		case 401:
			checked++
		case 429:
		default:
			t.Fatalf("guess %d: %d", i+1, r.Status)
		}
	}
	if checked > 6 {
		t.Fatalf("%d of 20 guesses were checked across two instances, want at most 6 (budget 5, plus one for the second instance)", checked)
	}
}
