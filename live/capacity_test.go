package live_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ivslive/ivslive/live"
)

// No viewer is seated past the account's concurrent-subscriptions quota,
// and the refusal says so; a seat already taken is kept.
func TestSubscriptionsQuota(t *testing.T) {
	e := newScaleEnv(t, func(c *live.Config) { c.AutoScale, c.MaxSubscriptions = false, 3 })
	e.publisher(t, true)
	for i := 0; i < 3; i++ {
		e.join(t, fmt.Sprint("v", i))
	}
	r := e.Do(t, "POST", "/api/token/viewer", map[string]string{"userId": "v3"})
	if r.Status != 503 || r.Error.Code != "STAGE_FULL" || !strings.Contains(r.Error.Message, "3") || !strings.Contains(r.Error.Message, "配額") {
		t.Fatalf("past the quota: %d %s", r.Status, r.Raw)
	}
	if n := len(e.Recorded(t)); n != 0 {
		t.Fatalf("the refused seat left %d records", n)
	}
	e.join(t, "v0") // asking again while seated
	var stats struct {
		TotalViewers int `json:"totalViewers"`
	}
	e.Must(t, 200, "GET", "/api/stats", nil).Decode(t, &stats)
	if stats.TotalViewers != 3 {
		t.Fatalf("%d viewers, want 3", stats.TotalViewers)
	}
}

// A full pool answers why: every stage with the host's media is full.
func TestPoolFullSaysWhy(t *testing.T) {
	e := newScaleEnv(t, func(c *live.Config) { c.AutoScale, c.Threshold, c.Capacity = false, 1, 2 })
	e.publisher(t, true)
	e.Must(t, 201, "POST", "/api/stage", map[string]string{"name": "side"}) // has room, but no host
	e.join(t, "a")
	e.join(t, "b")
	r := e.Do(t, "POST", "/api/token/viewer", map[string]string{"userId": "c"})
	if r.Status != 503 || r.Error.Code != "STAGE_FULL" || !strings.Contains(r.Error.Message, "主播畫面") {
		t.Fatalf("full pool: %d %s", r.Status, r.Raw)
	}
}

// Replications started through the API count against the host's quota of
// concurrent replications, so the scaler stops short of it.
func TestReplicationQuotaCountsAPIReplications(t *testing.T) {
	e := newScaleEnv(t, func(c *live.Config) { c.Threshold, c.Capacity, c.MaxReplicas = 1, 2, 2 })
	pid := e.publisher(t, true)
	var created struct {
		Stage struct {
			ARN string `json:"arn"`
		} `json:"stage"`
	}
	e.Must(t, 201, "POST", "/api/stage", map[string]string{"name": "by-hand"}).Decode(t, &created)
	e.Must(t, 200, "POST", "/api/stage/replication/start", map[string]string{
		"sourceStageArn": e.Live.MasterARN(), "destinationStageArn": created.Stage.ARN, "participantId": pid})
	for i := 0; i < 6; i++ {
		e.Do(t, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)})
		e.check(t)
	}
	if n := len(e.autoStages(t)); n != 1 {
		t.Fatalf("%d auto-scaled stages, want 1: the API's replication takes the other of 2", n)
	}
	if reps := e.replicas(t, pid); len(reps) != 2 {
		t.Fatalf("replicas %+v, want 2", reps)
	}
}
