package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivslive/ivslive/internal/testenv"
)

const testKey = "durability-test-key-0123456789"

// ack is a leave the API acknowledged, with the watch time the client can
// vouch for: at least from the join's answer to the leave's request, at
// most from the join's request to the leave's answer.
type ack struct {
	user, stage, session string
	min, max             time.Duration
}

// churn has n viewers join and leave with up to conc at once. After killAt
// acknowledged leaves it calls kill once; requests then fail and it stops.
func churn(t *testing.T, c client, n, conc, killAt int, kill func()) []ack {
	t.Helper()
	var (
		mu     sync.Mutex
		acks   []ack
		dead   atomic.Bool
		killed sync.Once
		wg     sync.WaitGroup
	)
	users := make(chan int)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range users {
				if dead.Load() {
					continue
				}
				user := fmt.Sprint("u", i)
				t0 := time.Now()
				status, data, err := c.do("POST", "/api/token/viewer", map[string]string{"userId": user})
				if err != nil || status != 200 {
					continue
				}
				t1 := time.Now()
				var join struct {
					StageARN  string `json:"stageArn"`
					SessionID string `json:"sessionId"`
				}
				json.Unmarshal(data, &join)
				time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond) // a viewer's random watch time: the workload, not a wait
				t2 := time.Now()
				status, data, err = c.do("POST", "/api/viewer/leave", map[string]string{"userId": user, "stageArn": join.StageARN})
				if err != nil || status != 200 {
					continue
				}
				var left struct {
					ViewerLeft bool   `json:"viewerLeft"`
					SessionID  string `json:"sessionId"`
				}
				json.Unmarshal(data, &left)
				if !left.ViewerLeft || left.SessionID != join.SessionID {
					t.Errorf("leave of %s: %s", user, data)
					continue
				}
				mu.Lock()
				acks = append(acks, ack{user: user, stage: join.StageARN, session: join.SessionID, min: t2.Sub(t1), max: time.Since(t0)})
				if len(acks) == killAt && kill != nil {
					killed.Do(func() { dead.Store(true); kill() })
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		users <- i
	}
	close(users)
	wg.Wait()
	return acks
}

// verify checks that every acknowledged leave has exactly one record, with
// the right stage and a duration the client can vouch for (±1 s), waiting
// up to a minute for queued records to land.
func verify(t *testing.T, c client, acks []ack) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, a := range acks {
		records := awaitRecords(deadline, func() (int, []byte, error) {
			return c.do("GET", "/api/viewer/history/"+url.PathEscape(a.user), nil)
		})
		if len(records) != 1 {
			t.Fatalf("%s: %d records, want exactly 1", a.user, len(records))
		}
		h := records[0]
		secs := time.Duration(h.WatchDurationSeconds) * time.Second
		if h.ID != a.session || h.StageARN != a.stage || h.EndReason != "leave" || secs < a.min-time.Second || secs > a.max+time.Second {
			t.Fatalf("%s: record %+v, want session %s on %s lasting %v–%v", a.user, h, a.session, a.stage, a.min, a.max)
		}
	}
}

// record is a viewing record as GET /api/viewer/history returns it.
type record struct {
	ID                   string `json:"id"`
	StageARN             string `json:"stageArn"`
	WatchDurationSeconds int64  `json:"watchDurationSeconds"`
	EndReason            string `json:"endReason"`
}

// awaitRecords fetches a user's history until it has a record or the
// deadline passes (queued records land asynchronously), and returns the
// records of the last answer.
func awaitRecords(deadline time.Time, fetch func() (int, []byte, error)) []record {
	var history []record
	testenv.Poll(time.Until(deadline), func() bool {
		status, data, err := fetch()
		var page struct {
			History []record `json:"history"`
		}
		if err == nil && status == 200 {
			json.Unmarshal(data, &page)
		}
		history = page.History
		return len(history) > 0
	})
	return history
}

func crashTest(t *testing.T, env map[string]string) {
	dir := t.TempDir()
	env["API_PORT"], env["API_SECRET_KEY"], env["IVSLIVE_DATA_DIR"] = "0", testKey, dir+"/data"
	env["AUTO_SCALE_ENABLED"], env["MAX_VIEWERS_PER_STAGE"], env["SCALE_UP_THRESHOLD"] = "false", "5000", "4000"
	env["RATE_LIMIT_MAX_REQUESTS"] = "0" // a load test, not a rate-limit test
	srv := startChild(t, dir, env)
	c := client{url: srv.url, key: testKey, http: &http.Client{Timeout: 10 * time.Second}}
	if status, _, err := c.do("POST", "/api/token/publisher", map[string]string{"userId": "host"}); err != nil || status != 200 {
		t.Fatalf("publisher token: %d %v", status, err)
	}
	acks := churn(t, c, 1000, 32, 400, srv.kill)
	if len(acks) < 400 {
		t.Fatalf("only %d leaves acknowledged before the kill", len(acks))
	}
	srv = startChild(t, dir, env)
	c.url = srv.url
	verify(t, c, acks)
	srv.stop(t)
	t.Logf("%d acknowledged leaves, every one recorded exactly once after SIGKILL and restart", len(acks))
}

// SIGKILL mid-load, then restart: every leave the API acknowledged is in
// history exactly once.
func TestCrashLosesNoAcknowledgedLeave(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { crashTest(t, map[string]string{}) })
	t.Run("redis+postgres", func(t *testing.T) {
		_, prefix := testenv.Redis(t)
		crashTest(t, map[string]string{"REDIS_URL": testenv.RedisURL(), "REDIS_KEY_PREFIX": prefix, "DATABASE_URL": testenv.PostgresURL(t)})
	})
}

// health reads /api/health's status and the history backlog (the
// components need a read key).
func health(t *testing.T, c client) (string, string, float64) {
	t.Helper()
	req, _ := http.NewRequest("GET", c.url+"/api/health", nil)
	req.Header.Set("X-Api-Key", testKey)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Data struct {
			Status     string `json:"status"`
			Components map[string]struct {
				Status string         `json:"status"`
				Info   map[string]any `json:"info"`
			} `json:"components"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&e)
	h := e.Data.Components["history"]
	backlog, _ := h.Info["backlog"].(float64)
	return e.Data.Status, h.Status, backlog
}

// PostgreSQL goes away while viewers leave: the API keeps answering 200,
// health says degraded with the backlog, and once the database is back the
// backlog drains and every record lands exactly once.
func TestPostgresOutage(t *testing.T) {
	for _, mode := range []string{"redis", "memory"} {
		t.Run(mode, func(t *testing.T) {
			dbURL, err := url.Parse(testenv.PostgresURL(t))
			if err != nil {
				t.Fatal(err)
			}
			pg := newProxy(t, dbURL.Host)
			dbURL.Host = pg.addr
			env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "DATABASE_URL": dbURL.String(),
				"IVSLIVE_DATA_DIR": t.TempDir(), "AUTO_SCALE_ENABLED": "false", "RATE_LIMIT_MAX_REQUESTS": "0"}
			if mode == "redis" {
				_, prefix := testenv.Redis(t)
				env["REDIS_URL"], env["REDIS_KEY_PREFIX"] = testenv.RedisURL(), prefix
			}
			t.Chdir(t.TempDir())
			s := start(t, env)
			defer s.stop()
			c := client{url: s.url, key: testKey, http: &http.Client{Timeout: 10 * time.Second}}
			c.do("POST", "/api/token/publisher", map[string]string{"userId": "host"})

			pg.down()
			acks := churn(t, c, 50, 8, -1, nil)
			if len(acks) != 50 {
				t.Fatalf("%d of 50 leaves answered 200 while PostgreSQL was down", len(acks))
			}
			status, history, backlog := health(t, c)
			if status != "degraded" || history != "down" || backlog != 50 {
				t.Fatalf("health during the outage: %s, history %s, backlog %v; want degraded, down, 50", status, history, backlog)
			}
			pg.up(t)
			verify(t, c, acks)
			testenv.Poll(30*time.Second, func() bool {
				status, _, backlog = health(t, c)
				return status == "healthy" && backlog == 0
			})
			if status != "healthy" || backlog != 0 {
				t.Fatalf("after the outage: %s with backlog %v", status, backlog)
			}
		})
	}
}
