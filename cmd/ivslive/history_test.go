package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/sqlite"
)

// poisonRecords are closed sessions the API no longer lets through: a NUL
// in the user id, and a User-Agent cut at byte 512 inside a character (as
// the HTTP layer cut it before).
func poisonRecords(stage string, at time.Time) []ivslive.ClosedSession {
	cut := strings.Repeat("a", ivslive.MaxUserAgent-1) + "é"
	return []ivslive.ClosedSession{
		{ViewerSession: ivslive.ViewerSession{ID: "vs-nul", UserID: "evil\x00", StageARN: stage, ParticipantID: "p1",
			JoinedAt: at, LastSeen: at}, LeftAt: at.Add(time.Second), Reason: ivslive.EndLeave},
		{ViewerSession: ivslive.ViewerSession{ID: "vs-ua", UserID: "ua-user", StageARN: stage, ParticipantID: "p2",
			JoinedAt: at, LastSeen: at, UserAgent: cut[:ivslive.MaxUserAgent]}, LeftAt: at.Add(time.Second), Reason: ivslive.EndLeave},
	}
}

// streamRecord writes c into the sessions:closed stream as the close
// script does.
func streamRecord(t *testing.T, client *goredis.Client, prefix string, c ivslive.ClosedSession) {
	t.Helper()
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	err := client.XAdd(context.Background(), &goredis.XAddArgs{Stream: prefix + "sessions:closed", Values: []string{
		"id", c.ID, "user", c.UserID, "stage", c.StageARN, "pid", c.ParticipantID, "joined", ms(c.JoinedAt),
		"last", ms(c.LastSeen), "left", ms(c.LeftAt), "reason", string(c.Reason), "ua", c.UserAgent, "ip", c.IP,
	}}).Err()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPoisonRecordsNeverStallHistory is issue 13's measurement: after a NUL
// userId and a cut multi-byte User-Agent reach the queue in front of
// PostgreSQL (written there directly: the API refuses such ids now), the
// next 100 closed sessions all reach PostgreSQL, the NUL record is a dead
// letter with its error, and /api/health said degraded while the backlog
// grew. The backlog is made to grow by holding a lock on viewer_sessions:
// PostgreSQL answers pings, the writes time out, the pipeline is stuck.
func TestPoisonRecordsNeverStallHistory(t *testing.T) {
	for _, mode := range []string{"redis", "memory"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			dbURL := testenv.PostgresURL(t)
			dataDir := t.TempDir()
			env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "DATABASE_URL": dbURL, "IVSLIVE_DATA_DIR": dataDir,
				"AUTO_SCALE_ENABLED": "false", "RATE_LIMIT_MAX_REQUESTS": "0", "MAX_VIEWERS_PER_STAGE": "5000", "SCALE_UP_THRESHOLD": "4000",
				"HISTORY_MAX_LAG": "2", "DB_STATEMENT_TIMEOUT": "1"}
			var rdb *goredis.Client
			var prefix string
			if mode == "redis" {
				rdb, prefix = testenv.Redis(t)
				env["REDIS_URL"], env["REDIS_KEY_PREFIX"] = testenv.RedisURL(), prefix
			}
			t.Chdir(t.TempDir())
			s := start(t, env)
			defer s.stop()
			c := client{url: s.url, key: testKey, http: &http.Client{Timeout: 10 * time.Second}}
			if status, _, err := c.do("POST", "/api/token/publisher", map[string]string{"userId": "host"}); err != nil || status != 200 {
				t.Fatalf("publisher token: %d %v", status, err)
			}

			lock, err := pgx.Connect(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Close(ctx)
			tx, err := lock.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `LOCK TABLE ivslive.viewer_sessions IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}

			poison := poisonRecords(masterARN(t, c), time.Now().UTC())
			if mode == "redis" {
				for _, p := range poison {
					streamRecord(t, rdb, prefix, p)
				}
			} else {
				db, err := sqlite.Open(ctx, filepath.Join(dataDir, "spool.db"))
				if err != nil {
					t.Fatal(err)
				}
				err = sqlite.NewSpool(db, nil).RecordSessions(ctx, poison)
				db.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			acks := churn(t, c, 100, 8, -1, nil)
			if len(acks) != 100 {
				t.Fatalf("%d of 100 leaves answered 200", len(acks))
			}

			var status, history string
			var backlog float64
			testenv.Poll(20*time.Second, func() bool {
				status, history, backlog = health(t, c)
				return status == "degraded" && history == "degraded"
			})
			t.Logf("while the history writes were stuck: health %s, history %s, backlog %v", status, history, backlog)
			// The 100 sessions wait at least (the NUL record may already be
			// a dead letter: it needs no write to viewer_sessions).
			if status != "degraded" || history != "degraded" || backlog < 100 {
				t.Fatalf("health while stuck: %s, history %s, backlog %v; want degraded, degraded, at least 100", status, history, backlog)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}

			verify(t, c, acks)
			var page struct {
				History []struct {
					UserAgent string `json:"userAgent"`
				} `json:"history"`
			}
			_, data, _ := c.do("GET", "/api/viewer/history/ua-user", nil)
			json.Unmarshal(data, &page)
			if len(page.History) != 1 || !utf8.ValidString(page.History[0].UserAgent) || len(page.History[0].UserAgent) != ivslive.MaxUserAgent-1 {
				t.Fatalf("the cut User-Agent's record: %s", data)
			}
			var letters struct {
				TotalRecords int `json:"totalRecords"`
				DeadLetters  []struct {
					SessionID, Record, Error string
				} `json:"deadLetters"`
			}
			_, data, _ = c.do("GET", "/api/admin/dead-letters", nil)
			json.Unmarshal(data, &letters)
			if letters.TotalRecords != 1 || letters.DeadLetters[0].SessionID != "vs-nul" ||
				!strings.Contains(letters.DeadLetters[0].Record, `"UserID":"evil\u0000"`) || !strings.Contains(letters.DeadLetters[0].Error, "userId") {
				t.Fatalf("dead letters: %s", data)
			}
			if _, fams := scrape(t, s.url+"/metrics", testKey); value(fams, "ivslive_history_dead_letters_total") != 1 {
				t.Fatalf("ivslive_history_dead_letters_total = %v, want 1", value(fams, "ivslive_history_dead_letters_total"))
			}
			testenv.Poll(30*time.Second, func() bool {
				status, _, backlog = health(t, c)
				return status == "healthy" && backlog == 0
			})
			if status != "healthy" || backlog != 0 {
				t.Fatalf("after the lock: %s with backlog %v", status, backlog)
			}
		})
	}
}

// TestFrozenPostgresAnswers503 puts a proxy that stops forwarding between
// the server and PostgreSQL: every request that needs PostgreSQL answers
// 503 SERVICE_UNAVAILABLE within the deadline (DB_STATEMENT_TIMEOUT plus a
// second), never hangs; leaves still answer 200 (they go to the local
// spool); after the thaw everything answers again.
func TestFrozenPostgresAnswers503(t *testing.T) {
	dbURL, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	pg := newProxy(t, dbURL.Host)
	dbURL.Host = pg.addr
	env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "DATABASE_URL": dbURL.String(), "IVSLIVE_DATA_DIR": t.TempDir(),
		"AUTO_SCALE_ENABLED": "false", "RATE_LIMIT_MAX_REQUESTS": "0", "DB_STATEMENT_TIMEOUT": "1"}
	t.Chdir(t.TempDir())
	s := start(t, env)
	defer s.stop()
	c := client{url: s.url, key: testKey, http: &http.Client{Timeout: 30 * time.Second}}
	if status, _, err := c.do("POST", "/api/token/publisher", map[string]string{"userId": "host"}); err != nil || status != 200 {
		t.Fatalf("publisher token: %d %v", status, err)
	}
	master := url.PathEscape(masterARN(t, c))

	pg.freeze()
	const deadline = 2 * time.Second // DB_STATEMENT_TIMEOUT and the one-second margin
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/viewer/history/v1", ""},
		{"GET", "/api/viewer/stats/" + master, ""},
		{"GET", "/api/stage/list", ""},
		{"POST", "/api/stage", `{"name":"frozen"}`},
		{"GET", "/api/admin/dead-letters", ""},
	} {
		start := time.Now()
		status, code := callCode(t, c, r.method, r.path, r.body)
		took := time.Since(start)
		t.Logf("%s %s with PostgreSQL frozen: %d %s in %v", r.method, r.path, status, code, took.Round(time.Millisecond))
		if status != 503 || code != ivslive.EUNAVAILABLE {
			t.Errorf("%s %s: %d %s, want 503 %s", r.method, r.path, status, code, ivslive.EUNAVAILABLE)
		}
		// The deadline is what the server waits; the rest is scheduling
		// on a loaded machine. A hang is 30 s (the client's timeout).
		if took > deadline+3*time.Second {
			t.Errorf("%s %s took %v, want about %v", r.method, r.path, took, deadline)
		}
	}
	acks := churn(t, c, 5, 1, -1, nil)
	if len(acks) != 5 {
		t.Fatalf("%d of 5 leaves answered 200 with PostgreSQL frozen", len(acks))
	}
	if status, history, _ := health(t, c); status != "degraded" || history != "down" {
		t.Fatalf("health with PostgreSQL frozen: %s, history %s; want degraded, down", status, history)
	}

	pg.thaw()
	verify(t, c, acks)
	if status, code := callCode(t, c, "GET", "/api/stage/list", ""); status != 200 {
		t.Fatalf("stage list after the thaw: %d %s", status, code)
	}
}

func masterARN(t *testing.T, c client) string {
	t.Helper()
	_, data, err := c.do("GET", "/api/stage/master/info", nil)
	var info struct {
		Stage struct {
			ARN string `json:"arn"`
		} `json:"stage"`
	}
	if err != nil || json.Unmarshal(data, &info) != nil || info.Stage.ARN == "" {
		t.Fatalf("master stage: %s %v", data, err)
	}
	return info.Stage.ARN
}

// callCode sends one request and returns the status and the error code.
func callCode(t *testing.T, c client, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var e envelope
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error.Code
}
