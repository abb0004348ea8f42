package http_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

func TestViewerHistoryAndStageStats(t *testing.T) {
	clock := apitest.NewClock(time.Now().UTC().Truncate(time.Second))
	env := apitest.New(t, apitest.Options{Clock: clock})
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	stage := env.Live.MasterARN()
	snap := &live.Snapshotter{Service: env.Live, Leader: alwaysLeaderHTTP{}, Interval: time.Minute}
	// v1 watches three times (30 s, 60 s, 90 s); v2 once for 120 s.
	for i, d := range []time.Duration{30 * time.Second, 60 * time.Second, 90 * time.Second} {
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v1"})
		if i == 0 {
			env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v2"})
		}
		if err := snap.Snapshot(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock.Add(d)
		env.Must(t, 200, "POST", "/api/viewer/leave", map[string]string{"userId": "v1", "stageArn": stage})
		if i == 1 {
			env.Must(t, 200, "POST", "/api/viewer/leave", map[string]string{"userId": "v2", "stageArn": stage})
		}
		clock.Add(time.Minute)
	}

	type historyPage struct {
		UserID       string `json:"userId"`
		TotalRecords int    `json:"totalRecords"`
		NextToken    string `json:"nextToken"`
		History      []struct {
			StageARN             string `json:"stageArn"`
			WatchDurationSeconds int64  `json:"watchDurationSeconds"`
			EndReason            string `json:"endReason"`
			LeftAt               string `json:"leftAt"`
		} `json:"history"`
	}
	var page historyPage
	env.Must(t, 200, "GET", "/api/viewer/history/v1?limit=2", nil).Decode(t, &page)
	if page.TotalRecords != 3 || len(page.History) != 2 || page.NextToken == "" ||
		page.History[0].WatchDurationSeconds != 90 || page.History[1].WatchDurationSeconds != 60 || page.History[0].EndReason != "leave" {
		t.Fatalf("first page = %+v", page)
	}
	next := page.NextToken
	page = historyPage{}
	env.Must(t, 200, "GET", "/api/viewer/history/v1?limit=2&nextToken="+next, nil).Decode(t, &page)
	if len(page.History) != 1 || page.History[0].WatchDurationSeconds != 30 || page.NextToken != "" {
		t.Fatalf("second page = %+v", page)
	}
	env.Must(t, 200, "GET", "/api/viewer/history/v1", nil).Decode(t, &page)
	if len(page.History) != 3 {
		t.Fatalf("default limit page has %d entries", len(page.History))
	}

	var stats struct {
		Days  int `json:"days"`
		Stats struct {
			TotalViews        int   `json:"totalViews"`
			UniqueViewers     int   `json:"uniqueViewers"`
			AvgWatchDuration  int   `json:"avgWatchDuration"`
			MaxWatchDuration  int   `json:"maxWatchDuration"`
			TotalWatchSeconds int64 `json:"totalWatchSeconds"`
			PeakViewers       int   `json:"peakViewers"`
		} `json:"stats"`
		Series struct {
			BucketSeconds int64 `json:"bucketSeconds"`
			Points        []struct {
				PeakViewers int `json:"peakViewers"`
			} `json:"points"`
		} `json:"series"`
	}
	env.Must(t, 200, "GET", "/api/viewer/stats/"+esc(stage)+"?days=1", nil).Decode(t, &stats)
	s := stats.Stats
	if stats.Days != 1 || s.TotalViews != 4 || s.UniqueViewers != 2 || s.MaxWatchDuration != 150 || s.TotalWatchSeconds != 330 || s.AvgWatchDuration != 83 || s.PeakViewers != 2 {
		t.Fatalf("stats = %+v", stats)
	}
	if stats.Series.BucketSeconds != 300 || len(stats.Series.Points) == 0 {
		t.Fatalf("series = %+v", stats.Series)
	}
	r := env.Must(t, 400, "GET", "/api/viewer/stats/"+esc(stage)+"?days=0", nil)
	if r.Error.Code != "VALIDATION_ERROR" {
		t.Fatalf("days=0: %s", r.Raw)
	}
	env.Must(t, 400, "GET", "/api/viewer/history/v1?limit=101", nil)
	env.Must(t, 400, "GET", "/api/viewer/history/v1?limit=-1", nil)
	env.Must(t, 400, "GET", "/api/viewer/history/v1?nextToken=zz", nil)
}

type alwaysLeaderHTTP struct{}

func (alwaysLeaderHTTP) IsLeader() bool { return true }

// brokenHistory fails every read, like a database that went away.
type brokenHistory struct{ ivslive.HistoryStore }

func (brokenHistory) FindSessions(context.Context, ivslive.SessionFilter) ([]ivslive.ClosedSession, string, int, error) {
	return nil, "", 0, fmt.Errorf("connection refused")
}

func (brokenHistory) StageSessionStats(context.Context, string, time.Time) (ivslive.SessionStats, error) {
	return ivslive.SessionStats{}, fmt.Errorf("connection refused")
}

// A database error is a 503, never an empty success as the Node server gave.
func TestHistoryErrorsAreServiceUnavailable(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	env.Live.History = brokenHistory{env.Store}
	for _, path := range []string{"/api/viewer/history/v1", "/api/viewer/stats/" + esc(env.Live.MasterARN())} {
		r := env.Must(t, 503, "GET", path, nil)
		if r.Error.Code != "SERVICE_UNAVAILABLE" {
			t.Errorf("%s: %s", path, r.Raw)
		}
	}
}
