package http_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

// Records the history store refuses are listed to admin keys, newest
// first, and announced on the bus.
func TestDeadLettersAreListedAndAnnounced(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	sub := env.Live.Events.(*live.Bus).Subscribe(16)
	defer sub.Close()
	stage := env.Live.MasterARN()
	var batch []ivslive.ClosedSession
	for i, user := range []string{"good", "evil\x00", "bad\xff"} {
		at := time.Now().Add(time.Duration(i) * time.Second)
		batch = append(batch, ivslive.ClosedSession{ViewerSession: ivslive.ViewerSession{ID: fmt.Sprint("s-", i), UserID: user, StageARN: stage,
			JoinedAt: at, LastSeen: at}, LeftAt: at, Reason: ivslive.EndLeave})
	}
	if err := env.Store.RecordSessions(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for want := 2; want > 0; want-- {
		select {
		case e := <-sub.C:
			if e.Type != ivslive.EventHistoryDeadLettered || !strings.HasPrefix(e.SessionID, "s-") || e.Reason == "" {
				t.Fatalf("event %+v", e)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no history.dead_lettered event")
		}
	}
	type page struct {
		TotalRecords int    `json:"totalRecords"`
		NextToken    string `json:"nextToken"`
		DeadLetters  []struct {
			ID, Source, SessionID, Record, Error, FailedAt string
		} `json:"deadLetters"`
	}
	var first, second page
	env.Must(t, 200, "GET", "/api/admin/dead-letters?limit=1", nil).Decode(t, &first)
	if first.TotalRecords != 2 || len(first.DeadLetters) != 1 || first.NextToken == "" {
		t.Fatalf("first page %+v", first)
	}
	env.Must(t, 200, "GET", "/api/admin/dead-letters?limit=1&nextToken="+first.NextToken, nil).Decode(t, &second)
	if len(second.DeadLetters) != 1 || second.NextToken != "" || second.DeadLetters[0].ID == first.DeadLetters[0].ID {
		t.Fatalf("second page %+v after %+v", second, first)
	}
	l := first.DeadLetters[0]
	if l.Source != "store" || !strings.Contains(l.Record, `"UserID":"`) || !strings.Contains(l.Error, "userId") || !timestampRE.MatchString(l.FailedAt) {
		t.Fatalf("dead letter %+v", l)
	}
	checkEnvelope(t, env.Do(t, "GET", "/api/admin/dead-letters", nil, "X-Api-Key", apitest.ReadKey), 403, "FORBIDDEN")
}

// A lagging component degrades the server even when it is critical; only
// a critical component that is down makes it unhealthy.
func TestHealthDegradedComponent(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	var probeErr error
	env.Server.Health = append(env.Server.Health, ivshttp.HealthCheck{Name: "history", Mode: "sqlite", Critical: true,
		Probe: func(context.Context) (map[string]any, error) { return map[string]any{"backlog": 3}, probeErr }})
	type health struct {
		Status     string `json:"status"`
		Components map[string]struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"components"`
	}
	probeErr = ivshttp.Degraded(ivslive.Errorf(ivslive.EUNAVAILABLE, "the oldest record waits for 90s"))
	var h health
	env.Must(t, 200, "GET", "/api/health", nil).Decode(t, &h)
	if h.Status != "degraded" || h.Components["history"].Status != "degraded" || h.Components["history"].Error != "the oldest record waits for 90s" {
		t.Fatalf("health with a lagging history: %+v", h)
	}
	probeErr = errors.New("disk I/O error")
	if r := env.Do(t, "GET", "/api/health", nil); r.Status != 503 {
		t.Fatalf("health with history down: %d %s", r.Status, r.Raw)
	}
}
