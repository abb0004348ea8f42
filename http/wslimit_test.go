package http_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/memory"
)

// dialFrom opens a WebSocket with key from address ip (X-Forwarded-For,
// which the test server trusts).
func dialFrom(t *testing.T, env *apitest.Env, key, ip string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"X-Api-Key": {key}, "X-Forwarded-For": {ip}}})
	if c != nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

func mustRefuse(t *testing.T, what string, resp *http.Response, err error, status int) {
	t.Helper()
	if err == nil || resp == nil || resp.StatusCode != status {
		t.Fatalf("%s: err %v, response %v; want %d before the upgrade", what, err, resp, status)
	}
	if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Fatalf("%s: %s, want the envelope", what, resp.Header.Get("Content-Type"))
	}
	if status == 429 && resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%s: 429 without Retry-After", what)
	}
}

// Connections are capped per key, per address and in total, with 429 or
// 503 in the envelope before the upgrade; a closed connection frees its
// slot.
func TestWebSocketConnectionCaps(t *testing.T) {
	env := apitest.New(t, apitest.Options{HTTP: func(c *ivshttp.Config) {
		c.TrustProxy = ivshttp.TrustProxy{All: true}
		c.WSLimits = ivshttp.WSLimits{Total: 5, PerKey: 3, PerAddress: 2}
	}})
	const a, b, c, d, e = "198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"
	open := func(key, ip string) *websocket.Conn {
		t.Helper()
		conn, _, err := dialFrom(t, env, key, ip)
		if err != nil {
			t.Fatalf("connection with %s from %s: %v", key, ip, err)
		}
		return conn
	}
	first := open(apitest.ReadKey, a)
	open(apitest.Key, a)
	_, resp, err := dialFrom(t, env, apitest.ReadKey, a)
	mustRefuse(t, "a third connection from one address", resp, err, 429)
	if _, resp, _ := dialFrom(t, env, "not-a-key", b); resp == nil || resp.StatusCode != 401 {
		t.Fatalf("a bad key: %v, want 401", resp)
	}
	open(apitest.ReadKey, b)
	open(apitest.ReadKey, c)
	_, resp, err = dialFrom(t, env, apitest.ReadKey, d)
	mustRefuse(t, "a fourth connection with one key", resp, err, 429)
	open(apitest.Key, d)
	_, resp, err = dialFrom(t, env, apitest.Key, e)
	mustRefuse(t, "a sixth connection in total", resp, err, 503)

	first.Close(websocket.StatusNormalClosure, "")
	testenv.Eventually(t, 5*time.Second, "the closed connection's slot freed", func() bool {
		conn, _, err := dialFrom(t, env, apitest.Key, e)
		if err == nil {
			conn.CloseNow()
		}
		return err == nil
	})
}

// countingPresence counts the stats computations (each reads Loads once).
type countingPresence struct {
	ivslive.PresenceStore
	loads atomic.Int64
}

func (p *countingPresence) Loads(ctx context.Context) ([]ivslive.StageLoad, error) {
	p.loads.Add(1)
	return p.PresenceStore.Loads(ctx)
}

// A subscribe is answered from the last stats snapshot: a flood of them
// (and of connections) does not compute the stats once each.
func TestSubscribeServesTheLastSnapshot(t *testing.T) {
	var counting *countingPresence
	env := apitest.New(t, apitest.Options{Presence: func(t testing.TB, sink ivslive.SessionSink, now func() time.Time) (ivslive.PresenceStore, func(context.Context) error) {
		counting = &countingPresence{PresenceStore: memory.NewPresence(sink, now, nil)}
		return counting, nil
	}})
	start, before := time.Now(), counting.loads.Load()
	var conns []*websocket.Conn
	for i := 0; i < 10; i++ {
		c, _, err := dial(t, env, apitest.ReadKey)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	const subscribes = 200
	for i := 0; i < subscribes; i++ {
		c := conns[i%len(conns)]
		channel := "stats"
		if i%2 == 1 {
			channel = "stage:" + env.Live.MasterARN()
		}
		send(t, c, fmt.Sprintf(`{"type":"subscribe","channel":%q}`, channel))
		// Read the confirmation and the state it sends, so no queue fills.
		next(t, c, 5*time.Second, func(m wsMessage) bool { return m.Type == "subscribed" })
		next(t, c, 5*time.Second, func(m wsMessage) bool { return m.Type == "stats_update" || m.Type == "stage_update" })
	}
	// The hub's own pushes compute at most once per second when something
	// changed, else once per 5 s; nothing changes here.
	computed, allowed := counting.loads.Load()-before, 2+int64(time.Since(start)/time.Second)
	if computed > allowed {
		t.Fatalf("%d stats computations for 10 connections and %d subscribes in %v, want at most %d", computed, subscribes, time.Since(start), allowed)
	}
}

// A key in the WebSocket URL still works, and the operator is told, at most
// once a minute; the subprotocol form is not warned about.
func TestKeyInURLIsWarnedAbout(t *testing.T) {
	var log apitest.LogBuffer
	clock := apitest.NewClock(time.Now())
	env := apitest.New(t, apitest.Options{Clock: clock, Log: slog.New(slog.NewTextHandler(&log, nil))})
	viaURL := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/ws?apiKey="+apitest.ReadKey, nil)
		if err != nil {
			t.Fatalf("?apiKey= no longer works: %v", err)
		}
		c.CloseNow()
	}
	warnings := func() int { return strings.Count(log.String(), "?apiKey=") }
	viaURL()
	viaURL()
	if n := warnings(); n != 1 {
		t.Fatalf("%d warnings after two connections in a minute, want 1:\n%s", n, log.String())
	}
	if _, _, err := dial(t, env, apitest.ReadKey); err != nil {
		t.Fatal(err)
	}
	clock.Add(61 * time.Second)
	viaURL()
	if n := warnings(); n != 2 {
		t.Fatalf("%d warnings a minute later, want 2", n)
	}
	if strings.Contains(log.String(), apitest.ReadKey) {
		t.Fatal("the warning shows the key")
	}
}
