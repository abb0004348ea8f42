package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ivslive/ivslive/internal/cwfake"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs/emulator"
)

// clusterEnv is the environment of instances sharing Redis, PostgreSQL and
// one IVS (an emulator the test runs).
func clusterEnv(t *testing.T) map[string]string {
	t.Helper()
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	ivs := httptest.NewServer(em)
	t.Cleanup(ivs.Close)
	_, prefix := testenv.Redis(t)
	return map[string]string{
		"API_PORT": "0", "API_SECRET_KEY": testKey, "IVS_BACKEND": "emulator", "IVS_ENDPOINT": ivs.URL,
		"REDIS_URL": testenv.RedisURL(), "REDIS_KEY_PREFIX": prefix, "DATABASE_URL": testenv.PostgresURL(t),
		"AUTO_SCALE_ENABLED": "false",
	}
}

// startIn starts an instance in its own directory.
func startIn(t *testing.T, env map[string]string) server {
	t.Helper()
	e := map[string]string{"IVSLIVE_DATA_DIR": t.TempDir()}
	for k, v := range env {
		e[k] = v
	}
	s := start(t, e)
	s.key = testKey
	return s
}

// A WebSocket client on instance A sees viewers who joined through
// instance B, within a second.
func TestWebSocketAcrossInstances(t *testing.T) {
	env := clusterEnv(t)
	a := startIn(t, env)
	defer a.stop()
	b := startIn(t, env)
	defer b.stop()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(a.url, "http")+"/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"X-Api-Key": {testKey}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// Drain the greeting before acting, so the count is caused by B.
	readUntil(ctx, t, ws, func(d statsMsg) bool { return true })

	call(t, b, "POST", "/api/token/publisher", `{"userId":"host"}`)
	for i := 0; i < 5; i++ {
		if status, _ := call(t, b, "POST", "/api/token/viewer", fmt.Sprintf(`{"userId":"v%d"}`, i)); status != 200 {
			t.Fatalf("join through B: %d", status)
		}
	}
	joined := time.Now()
	readUntil(ctx, t, ws, func(d statsMsg) bool { return d.Data.ViewerCount == 5 })
	lag := time.Since(joined)
	t.Logf("instance A pushed the count of viewers who joined through B %v after the last join", lag)
	if lag > 1500*time.Millisecond {
		t.Fatalf("the update took %v; the target is within 1 s (1.5 s allowed for a loaded machine)", lag)
	}
}

type statsMsg struct {
	Type string `json:"type"`
	Data struct {
		ViewerCount int `json:"viewerCount"`
	} `json:"data"`
}

func readUntil(ctx context.Context, t *testing.T, ws *websocket.Conn, ok func(statsMsg) bool) {
	t.Helper()
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("no matching stats_update: %v", err)
		}
		var m statsMsg
		if json.Unmarshal(b, &m) == nil && m.Type == "stats_update" && ok(m) {
			return
		}
	}
}

// Two instances send CloudWatch metrics to a fake endpoint: only the
// leader's credentials ever appear, and the numbers are cluster-wide.
func TestCloudWatchFromTheLeaderOnly(t *testing.T) {
	fake := cwfake.New(t)
	env := clusterEnv(t)
	env["CLOUDWATCH_ENABLED"], env["CLOUDWATCH_ENDPOINT"], env["METRICS_INTERVAL"] = "true", fake.URL(), "1"
	env["AWS_REGION"], env["NODE_ENV"], env["CLOUDWATCH_NAMESPACE"] = "us-east-1", "production", "IVS/Test"
	withKey := func(id string) map[string]string {
		e := map[string]string{"AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": "secret-" + id}
		for k, v := range env {
			e[k] = v
		}
		return e
	}
	a := startIn(t, withKey("KEYA"))
	defer a.stop()
	b := startIn(t, withKey("KEYB"))
	defer b.stop()
	call(t, a, "POST", "/api/token/publisher", `{"userId":"host"}`)
	for i := 0; i < 5; i++ {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		if status, _ := call(t, srv, "POST", "/api/token/viewer", fmt.Sprintf(`{"userId":"v%d"}`, i)); status != 200 {
			t.Fatalf("join: %d", status)
		}
	}
	var calls []cwfake.Call
	testenv.Poll(15*time.Second, func() bool {
		calls, _, _ = fake.Snapshot()
		tokens, viewers := 0.0, -1.0
		for _, c := range calls {
			for _, d := range c.Data {
				switch d.Name {
				case "TokensIssued":
					tokens += d.Value
				case "TotalViewers":
					viewers = d.Value
				}
			}
		}
		return tokens == 6 && viewers == 5
	})
	keys := map[string]bool{}
	var tokens float64
	var last map[string]float64
	for _, c := range calls {
		keys[c.AccessKey] = true
		if c.Namespace != "IVS/Test" {
			t.Fatalf("namespace %q", c.Namespace)
		}
		last = map[string]float64{}
		for _, d := range c.Data {
			if d.Dims["Environment"] != "production" || d.Dims["Service"] != "ivslive" || d.Unit != "Count" {
				t.Fatalf("datum %+v", d)
			}
			last[d.Name] += d.Value
			if d.Name == "TokensIssued" {
				tokens += d.Value
			}
			if d.Name == "StageViewers" && d.Dims["StageArn"] == "" {
				t.Fatalf("StageViewers without StageArn: %+v", d)
			}
		}
	}
	if len(keys) != 1 {
		t.Fatalf("metrics came from %v; want exactly one instance, the leader", keys)
	}
	if tokens != 6 || last["TotalViewers"] != 5 || last["ActiveStages"] != 1 || last["StageViewers"] != 5 {
		t.Fatalf("tokens issued %v (want 6: 1 publisher + 5 viewers, across both instances), last send %v", tokens, last)
	}
}

// Two instances spend one budget in Redis: their sum never exceeds it.
func TestRateLimitAcrossInstances(t *testing.T) {
	env := clusterEnv(t)
	env["RATE_LIMIT_MAX_REQUESTS"], env["RATE_LIMIT_WINDOW_MS"] = "10", "60000"
	a := startIn(t, env)
	defer a.stop()
	b := startIn(t, env)
	defer b.stop()
	allowed, refused := 0, 0
	for i := 0; i < 30; i++ {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		switch status, _ := call(t, srv, "GET", "/api/stats/viewers", ""); status {
		case 200:
			allowed++
		case 429:
			refused++
		default:
			t.Fatalf("status %d", status)
		}
	}
	if allowed != 10 || refused != 20 {
		t.Fatalf("%d allowed and %d refused across two instances, want 10 and 20", allowed, refused)
	}
}

// Two instances (processes) on one standalone emulator (`ivslive emulator`
// and IVS_ENDPOINT), one Redis and one PostgreSQL work as one: a viewer who
// joined through one heartbeats and leaves through the other, both count
// the same and the record is written once. When the leader is killed, the
// other takes over the sweeper (a silent viewer is removed) and the scaler
// (a stage is added when the viewers need one).
func TestTwoInstancesOnOneStandaloneEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	emDir := t.TempDir()
	em := startEmulatorChild(t, emDir)
	_, prefix := testenv.Redis(t)
	env := map[string]string{
		"API_PORT": "0", "API_SECRET_KEY": testKey, "IVS_ENDPOINT": em.url,
		"REDIS_URL": testenv.RedisURL(), "REDIS_KEY_PREFIX": prefix, "DATABASE_URL": testenv.PostgresURL(t),
		"RATE_LIMIT_MAX_REQUESTS": "0", "VIEWER_TIMEOUT": "5", "HEALTH_CHECK_INTERVAL": "1",
		"MAX_VIEWERS_PER_STAGE": "10", "SCALE_UP_THRESHOLD": "5", "SCALE_DOWN_THRESHOLD": "1",
	}
	c := startCluster(t, 2, env)
	must := func(i int, path string, body any) json.RawMessage {
		t.Helper()
		status, data, err := c.on(i, "POST", path, body)
		if err != nil || status != 200 {
			t.Fatalf("instance %d %s: %d %s %v", i, path, status, data, err)
		}
		return data
	}
	must(0, "/api/token/publisher", map[string]string{"userId": "host"})

	var seat struct {
		StageARN  string `json:"stageArn"`
		SessionID string `json:"sessionId"`
	}
	json.Unmarshal(must(0, "/api/token/viewer", map[string]string{"userId": "v1"}), &seat)
	must(1, "/api/viewer/heartbeat", map[string]string{"userId": "v1", "stageArn": seat.StageARN, "sessionId": seat.SessionID})
	if a, b := c.viewers(0), c.viewers(1); a != 1 || b != 1 {
		t.Fatalf("after a join through A: A counts %d, B %d; want 1 and 1", a, b)
	}
	must(1, "/api/viewer/leave", map[string]string{"userId": "v1", "stageArn": seat.StageARN})
	if a, b := c.viewers(0), c.viewers(1); a != 0 || b != 0 {
		t.Fatalf("after a leave through B: A counts %d, B %d; want 0 and 0", a, b)
	}
	records := awaitRecords(time.Now().Add(15*time.Second), func() (int, []byte, error) { return c.on(0, "GET", "/api/viewer/history/v1", nil) })
	if len(records) != 1 || records[0].ID != seat.SessionID || records[0].EndReason != "leave" {
		t.Fatalf("v1's history %+v, want the one session %s, ended by leave", records, seat.SessionID)
	}

	leader := -1
	testenv.Eventually(t, 10*time.Second, "a leader elected", func() bool { leader = c.leader(); return leader >= 0 })
	survivor := 1 - leader
	c.nodes[leader].kill()
	c.dead[leader] = true

	// Only the survivor runs now: whatever the jobs do is its doing.
	must(survivor, "/api/token/viewer", map[string]string{"userId": "silent"})
	crowd := []string{"c1", "c2", "c3", "c4", "c5"} // 5 > 0.8 × SCALE_UP_THRESHOLD: one more stage
	stages := map[string]string{}
	for _, u := range crowd {
		json.Unmarshal(must(survivor, "/api/token/viewer", map[string]string{"userId": u}), &seat)
		stages[u] = seat.StageARN
	}
	swept, scaled := false, false
	var beat time.Time
	testenv.Poll(20*time.Second, func() bool {
		// The crowd heartbeats at a viewer's pace while the test watches.
		if time.Since(beat) >= 300*time.Millisecond {
			for _, u := range crowd {
				must(survivor, "/api/viewer/heartbeat", map[string]string{"userId": u, "stageArn": stages[u]})
			}
			beat = time.Now()
		}
		if !swept {
			status, data, err := c.on(survivor, "GET", "/api/viewer/history/silent", nil)
			swept = err == nil && status == 200 && strings.Contains(string(data), `"endReason":"timeout"`)
		}
		if !scaled {
			_, data, err := c.on(survivor, "GET", "/api/stage/list", nil)
			scaled = err == nil && strings.Contains(string(data), `"autoScaled":true`)
		}
		return swept && scaled
	})
	if !swept || !scaled {
		t.Fatalf("after the leader was killed the survivor swept the silent viewer: %v, added a stage: %v", swept, scaled)
	}
	if got := c.viewers(survivor); got != len(crowd) {
		t.Fatalf("the survivor counts %d viewers, want the %d who kept their heartbeats", got, len(crowd))
	}
}
