package http_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
)

// heartbeatLatencies sends n heartbeats and returns their latencies sorted.
func heartbeatLatencies(t *testing.T, env *apitest.Env, n int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, n)
	for i := range out {
		start := time.Now()
		env.Must(t, 200, "POST", "/api/viewer/heartbeat", map[string]string{"userId": "hb", "stageArn": env.Live.MasterARN()})
		out[i] = time.Since(start)
	}
	slices.Sort(out)
	return out
}

// floodWhileMeasuring joins n viewers (8 at a time) while measuring 300
// heartbeats, and returns the heartbeat latencies.
func floodWhileMeasuring(t *testing.T, env *apitest.Env, prefix string, n int) []time.Duration {
	t.Helper()
	flood := make(chan int)
	var fw sync.WaitGroup
	for w := 0; w < 8; w++ {
		fw.Add(1)
		go func() {
			defer fw.Done()
			for i := range flood {
				env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint(prefix, i)})
			}
		}()
	}
	during := make(chan []time.Duration)
	go func() { during <- heartbeatLatencies(t, env, 300) }()
	for i := 0; i < n; i++ {
		flood <- i
	}
	close(flood)
	fw.Wait()
	return <-during
}

func pct(d []time.Duration, p float64) time.Duration { return d[int(float64(len(d)-1)*p)] }

// 1,000 idle WebSocket clients and one that stops reading: the slow one is
// dropped, the rest keep receiving, and heartbeats are served as before.
// Latencies are reported, not asserted (speed is for benchmarks).
func TestSlowWebSocketReaderIsDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 connections")
	}
	env := apitest.New(t, apitest.Options{Live: apitestCapacity(100000)})
	// Under -race on a loaded machine the 1,000 readers can be starved past
	// a ping's 10 s timeout and all be dropped for a missed pong, which is
	// not the drop under test (a full queue): no pings while it runs.
	ivshttp.SetPingInterval(env.Hub, time.Hour)
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "hb"})
	before := floodWhileMeasuring(t, env, "a", 1000)

	const idle = 1000
	var (
		wg       sync.WaitGroup
		got      atomic.Int64 // idle clients that saw the final count
		final    = fmt.Sprintf(`"viewerCount":%d`, 1+1000+2000)
		ctx, end = context.WithCancel(context.Background())
	)
	defer end()
	for i := 0; i < idle; i++ {
		c, _, err := dial(t, env, apitest.ReadKey)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := false
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				if !seen && strings.Contains(string(b), final) {
					seen = true
					got.Add(1)
				}
			}
		}()
	}
	slow := dialSlow(t, env)
	send(t, slow, `{"type":"subscribe","channel":"events"}`)

	// A flood of events: each join is one event for the slow client.
	loaded := floodWhileMeasuring(t, env, "f", 2000)

	// A roomy window: on a loaded machine (-race, -count=3, other packages
	// in parallel) delivering to 1,000 readers takes a while, and polling
	// ends as soon as the outcome is there.
	testenv.Poll(30*time.Second, func() bool { return got.Load() >= idle && env.Hub.Clients() == idle })
	if n := env.Hub.Clients(); n != idle {
		t.Fatalf("%d clients connected, want the %d idle ones (the slow one dropped)", n, idle)
	}
	if n := got.Load(); n != idle {
		t.Fatalf("%d of %d idle clients received the final count", n, idle)
	}
	// The slow client, reading at last, gets what was in flight and then
	// finds the connection cut.
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, _, err := slow.Read(rctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("the slow client's connection is still open")
			}
			break
		}
	}
	t.Logf("heartbeat latency during a join flood: without WebSockets p50 %v p99 %v; with %d idle clients and a slow one p50 %v p99 %v",
		pct(before, .5), pct(before, .99), idle, pct(loaded, .5), pct(loaded, .99))
	end()
	wg.Wait()
}

// dialSlow connects a client with a 4 KiB receive buffer that will not read.
func dialSlow(t *testing.T, env *apitest.Env) *websocket.Conn {
	t.Helper()
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return serr
	}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/ws",
		&websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{"ivslive", "key." + apitest.Key}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}
