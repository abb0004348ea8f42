package api_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/metrics"
	"github.com/ivslive/ivslive/token"
)

// The scenario of TestContract: each function drives a group of routes
// through c, which checks every request and answer against the document.

// exercisePublic covers the routes that need no key.
func exercisePublic(t *testing.T, c *checker) {
	c.do(t, 200, "GET", "/", nil)
	c.do(t, 200, "GET", "/health", nil)
	c.do(t, 200, "GET", "/api/health", nil)
	for _, page := range []string{"/api/openapi.json", "/docs/", "/dashboard/", "/demo/", "/demo/publish", "/demo/watch"} {
		c.do(t, 200, "GET", page, nil)
	}
}

// exercisePool walks a broadcast: publisher, stages, viewers, replication,
// stats and history, then tears it down.
func exercisePool(t *testing.T, c *checker) {
	env := c.env
	master := env.Live.MasterARN()
	c.do(t, 200, "GET", "/api/stats/publisher", nil)
	c.do(t, 200, "GET", "/api/stage/replication/publisher-info", nil)
	c.do(t, 404, "POST", "/api/token/viewer", map[string]string{"userId": "early"})

	var pub struct{ ParticipantID string }
	c.do(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host-1"}).decode(t, &pub)
	env.Emulator.SetPublishing(master, pub.ParticipantID, true)
	c.do(t, 200, "GET", "/api/stats/publisher", nil)
	c.do(t, 200, "GET", "/api/stage/replication/publisher-info", nil)

	room1 := createStage(t, c, map[string]any{"name": "room-1", "tags": map[string]string{"team": "video"}})
	room2 := createStage(t, c, map[string]any{"name": "room-2"})
	var page struct{ NextToken string }
	c.do(t, 200, "GET", "/api/stage/list?limit=1", nil).decode(t, &page)
	c.do(t, 200, "GET", "/api/stage/list?limit=2&nextToken="+url.QueryEscape(page.NextToken), nil)
	c.do(t, 200, "GET", "/api/stage/master/info", nil)
	c.do(t, 200, "GET", "/api/stage/"+esc(room1), nil)
	c.do(t, 200, "PUT", "/api/stage/"+esc(room1), map[string]string{"name": "room-1b"})
	c.do(t, 200, "PUT", "/api/stage/"+esc(room1), nil) // no name: nothing changes

	if env.Server.Sessions == nil { // session tokens are optional; production has them
		env.Server.Sessions, _ = token.NewSessions(token.NewSessionSecret(), nil)
	}
	c.do(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "alice"})
	var bob struct{ SessionID, ParticipantID, SessionToken string }
	c.do(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "bob", "stageArn": room1}).decode(t, &bob)
	seat := map[string]string{"userId": "bob", "stageArn": room1, "sessionId": bob.SessionID}
	c.do(t, 200, "POST", "/api/viewer/heartbeat", seat)
	bearer := []string{"X-Api-Key", "", "Authorization", "Bearer " + bob.SessionToken}
	c.do(t, 200, "POST", "/api/viewer/heartbeat", nil, bearer...)
	c.do(t, 403, "POST", "/api/viewer/heartbeat", map[string]string{"userId": "alice"}, bearer...)
	c.reject(t, 403, "GET", "/api/stats", nil, bearer...)
	c.do(t, 401, "POST", "/api/viewer/heartbeat", nil, "X-Api-Key", "", "Authorization", "Bearer v1.forged.token")
	c.do(t, 200, "POST", "/api/viewer/rejoin", map[string]string{"userId": "bob", "stageArn": room1, "participantId": bob.ParticipantID})
	c.do(t, 200, "GET", "/api/viewer/duration?userId=bob&stageArn="+url.QueryEscape(room1), nil)
	c.do(t, 200, "GET", "/api/viewer/list/"+esc(room1), nil)

	c.do(t, 200, "GET", "/api/stats", nil)
	c.do(t, 200, "GET", "/api/stats/viewers", nil)
	c.do(t, 200, "GET", "/api/stats/stages", nil)
	c.do(t, 200, "GET", "/api/stats/stages?arn="+url.QueryEscape(room1), nil)
	c.do(t, 200, "GET", "/api/stats/stages?arn="+url.QueryEscape(unknownStage), nil)
	c.do(t, 200, "GET", "/api/stats/stages/"+ivslive.StageID(room1), nil)

	rep := map[string]string{"sourceStageArn": master, "destinationStageArn": room2, "participantId": pub.ParticipantID}
	c.do(t, 200, "POST", "/api/stage/replication/start", rep)
	c.do(t, 409, "POST", "/api/stage/replication/start", rep)
	c.do(t, 200, "GET", "/api/stage/replication/status/"+esc(room2), nil)
	c.do(t, 200, "GET", "/api/stage/replication/status/"+esc(room1), nil)
	c.do(t, 200, "DELETE", "/api/stage/replication/stop", rep)
	c.do(t, 404, "DELETE", "/api/stage/replication/stop", rep)

	c.do(t, 200, "POST", "/api/viewer/leave", seat)
	c.do(t, 200, "POST", "/api/viewer/leave", seat) // not seated any more
	c.do(t, 404, "POST", "/api/viewer/heartbeat", seat)
	c.do(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "bob", "stageArn": room1}).decode(t, &bob)
	c.do(t, 200, "POST", "/api/viewer/leave", nil, "X-Api-Key", "", "Authorization", "Bearer "+bob.SessionToken)
	var hist struct{ NextToken string }
	c.do(t, 200, "GET", "/api/viewer/history/bob?limit=1", nil).decode(t, &hist)
	if hist.NextToken == "" {
		t.Fatal("two sessions, one per page: want a nextToken")
	}
	c.do(t, 200, "GET", "/api/viewer/history/bob?limit=1&nextToken="+url.QueryEscape(hist.NextToken), nil)
	// Snapshots are the leader's every few minutes; make some for the series.
	ago := time.Now().Add(-time.Hour)
	if err := env.Store.SaveSnapshots(context.Background(), []ivslive.Snapshot{{StageARN: room1, Time: ago, Viewers: 3},
		{StageARN: room1, Time: ago.Add(time.Minute), Viewers: 4}, {StageARN: ivslive.TotalStageARN, Time: ago, Viewers: 9}}); err != nil {
		t.Fatal(err)
	}
	var stats struct{ Series struct{ Points []any } }
	c.do(t, 200, "GET", "/api/viewer/stats/"+esc(room1)+"?days=1", nil).decode(t, &stats)
	if len(stats.Series.Points) == 0 {
		t.Error("the series has no points: its schema went unchecked")
	}
	c.do(t, 200, "GET", "/api/viewer/stats/*", nil)

	internal := []string{"X-Internal-Secret", "internal-secret"}
	c.do(t, 200, "POST", "/api/token/mediaserver", map[string]string{"serverId": "relay-1", "stageArn": master}, internal...)
	c.reject(t, 403, "POST", "/api/token/mediaserver", map[string]string{"serverId": "relay-1", "stageArn": master})

	c.do(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "carol", "stageArn": room2})
	c.do(t, 400, "DELETE", "/api/stage/"+esc(room2), nil) // a viewer is on it
	c.do(t, 200, "DELETE", "/api/stage/"+esc(room2)+"?force=true", nil)
	c.do(t, 200, "DELETE", "/api/stage/"+esc(room1)+"?force=false", nil)
	c.do(t, 403, "DELETE", "/api/stage/"+esc(master), nil)

	c.do(t, 200, "POST", "/api/token/publisher/end", map[string]any{"disconnect": true})
	c.do(t, 404, "POST", "/api/token/publisher/end", nil)

	// Records the history store refuses: a NUL id and an unknown end reason
	// (written past the API, which refuses such ids), listed in two pages.
	at := time.Now()
	poison := []ivslive.ClosedSession{
		{ViewerSession: ivslive.ViewerSession{ID: "vs-nul", UserID: "evil\x00", StageARN: master, JoinedAt: at, LastSeen: at}, LeftAt: at, Reason: ivslive.EndLeave},
		{ViewerSession: ivslive.ViewerSession{ID: "vs-why", UserID: "u", StageARN: master, JoinedAt: at, LastSeen: at}, LeftAt: at, Reason: "vanished"},
	}
	if err := env.Store.RecordSessions(context.Background(), poison); err != nil {
		t.Fatal(err)
	}
	c.do(t, 200, "GET", "/api/admin/dead-letters", nil)
	c.do(t, 200, "GET", "/api/admin/dead-letters?limit=1", nil).decode(t, &page)
	c.do(t, 200, "GET", "/api/admin/dead-letters?limit=1&nextToken="+url.QueryEscape(page.NextToken), nil)
}

// unknownStage is a well-formed ARN of a stage nobody created.
const unknownStage = "arn:aws:ivs:us-east-1:123456789012:stage/nothere"

// exerciseErrors checks the error answers the server and the document agree on.
func exerciseErrors(t *testing.T, c *checker) {
	c.reject(t, 400, "POST", "/api/token/viewer", `{"userId":`)
	c.reject(t, 400, "POST", "/api/token/viewer", map[string]any{"userId": 123})
	c.reject(t, 400, "POST", "/api/token/publisher", map[string]any{})
	c.reject(t, 400, "POST", "/api/token/viewer", map[string]any{"userId": "evil\x00"})
	c.reject(t, 400, "GET", "/api/admin/dead-letters?limit=0", nil)
	c.reject(t, 403, "GET", "/api/admin/dead-letters", nil, "X-Api-Key", apitest.ReadKey)
	c.reject(t, 400, "GET", "/api/stage/list?limit=0", nil)
	c.reject(t, 400, "GET", "/api/viewer/history/bob?limit=101", nil)
	c.reject(t, 400, "GET", "/api/viewer/stats/*?days=0", nil)
	c.reject(t, 400, "GET", "/api/stage/hello", nil)
	c.reject(t, 400, "GET", "/api/stats/stages/"+url.PathEscape(unknownStage), nil)
	c.reject(t, 400, "DELETE", "/api/stage/"+esc(unknownStage)+"?force=maybe", nil)
	c.reject(t, 401, "GET", "/api/stats", nil, "X-Api-Key", "")
	c.reject(t, 401, "GET", "/api/stats", nil, "X-Api-Key", "not-a-key")
	c.reject(t, 403, "POST", "/api/stage", map[string]string{"name": "nope"}, "X-Api-Key", apitest.ViewerKey)
	c.reject(t, 403, "GET", "/api/stats", nil, "X-Api-Key", apitest.ViewerKey)
	c.do(t, 404, "GET", "/api/stage/"+esc(unknownStage), nil)
	c.do(t, 404, "PUT", "/api/stage/"+esc(unknownStage), map[string]string{"name": "x"})
	c.do(t, 404, "GET", "/api/stats/stages/nothere", nil)
	c.reject(t, 413, "POST", "/api/token/viewer", `{"userId":"`+strings.Repeat("x", 2<<20)+`"}`)
	c.reject(t, 415, "POST", "/api/token/viewer", `<userId/>`, "Content-Type", "application/xml")
}

// exerciseOptional covers the routes whose handler a server may run without
// (404 then): the WebSocket hub and the metrics. A test server lacking one is
// given one, set before the next request is sent (the connection orders it).
func exerciseOptional(t *testing.T, c *checker) {
	upgrade := []string{"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13",
		"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol", "ivslive"}
	if c.env.Server.Hub == nil {
		c.do(t, 404, "GET", "/ws", nil, upgrade...)
		c.env.Server.Hub = ivshttp.NewHub(c.env.Live, live.NewBus(), nil)
		t.Cleanup(c.env.Server.Hub.Close)
	}
	c.do(t, 101, "GET", "/ws", nil, upgrade...)
	c.do(t, 401, "GET", "/ws", nil, append(upgrade, "X-Api-Key", "not-a-key")...)
	c.do(t, 403, "GET", "/ws", nil, append(upgrade, "X-Api-Key", apitest.ViewerKey)...)

	if c.env.Server.Metrics == nil {
		c.do(t, 404, "GET", "/metrics", nil)
		c.env.Server.Metrics = metrics.New(prometheus.NewRegistry(), c.env.Live.Stats, nil).Handler()
	}
	c.do(t, 200, "GET", "/metrics", nil)
	c.reject(t, 401, "GET", "/metrics", nil, "X-Api-Key", "")
}

// exerciseLimits runs on a server with one seat and one stage: the 503s.
func exerciseLimits(t *testing.T, c *checker) {
	c.do(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host-1"})
	c.do(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "first"})
	c.do(t, 503, "POST", "/api/token/viewer", map[string]string{"userId": "second"})
	c.do(t, 503, "POST", "/api/stage", map[string]string{"name": "one-too-many"})
	// A critical component lagging: degraded, still 200.
	lagging := ivshttp.HealthCheck{Name: "history", Mode: "sqlite", Critical: true,
		Probe: func(context.Context) (map[string]any, error) {
			return map[string]any{"backlog": 7, "oldestAgeSeconds": 95.5}, ivshttp.Degraded(errors.New("lagging for the test"))
		}}
	c.env.Server.Health = append(c.env.Server.Health, lagging)
	c.do(t, 200, "GET", "/api/health", nil)
	// A critical component down: 503 with the report in data.
	c.env.Server.Health = append(c.env.Server.Health, ivshttp.HealthCheck{Name: "ivs", Mode: "emulator", Critical: true,
		Probe: func(context.Context) (map[string]any, error) { return nil, errors.New("down for the test") }})
	c.do(t, 503, "GET", "/api/health", nil)
	// Rate limiting on, every budget spent: 429 with its headers.
	c.env.Server.Limiter = spent{}
	c.env.Server.Config.RateLimit = ivslive.RateLimit{Requests: 100, Period: time.Minute}
	c.do(t, 429, "GET", "/api/stats", nil)
	c.do(t, 429, "POST", "/api/token/viewer", map[string]string{"userId": "third"})
}

// spent is a rate limiter whose budgets are all spent.
type spent struct{}

func (spent) Allow(context.Context, []string, ivslive.RateLimit) (ivslive.RateDecision, error) {
	return ivslive.RateDecision{Limit: 100, RetryAfter: 1500 * time.Millisecond, ResetAfter: time.Minute}, nil
}

func createStage(t *testing.T, c *checker, body map[string]any) string {
	t.Helper()
	var created struct{ Stage struct{ ARN string } }
	c.do(t, 201, "POST", "/api/stage", body).decode(t, &created)
	return created.Stage.ARN
}

func esc(arn string) string { return url.PathEscape(arn) }
