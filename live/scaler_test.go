package live_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

type alwaysLeader struct{}

func (alwaysLeader) IsLeader() bool { return true }

type scaleEnv struct {
	*apitest.Env
	clock  *apitest.Clock
	scaler *live.Scaler
}

func newScaleEnv(t *testing.T, tune func(c *live.Config)) scaleEnv {
	clock := apitest.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	env := apitest.New(t, apitest.Options{Clock: clock,
		Live: func(c *live.Config) {
			c.AutoScale = true
			if tune != nil {
				tune(c)
			}
		}})
	return scaleEnv{Env: env, clock: clock, scaler: &live.Scaler{Service: env.Live, Leader: alwaysLeader{}, Interval: time.Hour}}
}

func (e scaleEnv) check(t *testing.T) {
	t.Helper()
	if err := e.scaler.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e scaleEnv) publisher(t *testing.T, publishing bool) string {
	t.Helper()
	var tok struct {
		ParticipantID string `json:"participantId"`
	}
	e.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"}).Decode(t, &tok)
	if publishing {
		e.Emulator.SetPublishing(e.Live.MasterARN(), tok.ParticipantID, true)
	}
	return tok.ParticipantID
}

func (e scaleEnv) join(t *testing.T, user string) string {
	t.Helper()
	var tok struct {
		StageARN string `json:"stageArn"`
	}
	e.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": user}).Decode(t, &tok)
	return tok.StageARN
}

func (e scaleEnv) leave(t *testing.T, user, stage string) {
	t.Helper()
	e.Must(t, 200, "POST", "/api/viewer/leave", map[string]string{"userId": user, "stageArn": stage})
}

func (e scaleEnv) autoStages(t *testing.T) []ivslive.Stage {
	t.Helper()
	all, _, _, err := e.Store.FindStages(context.Background(), ivslive.StageFilter{IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []ivslive.Stage
	for _, s := range all {
		if s.AutoScaled {
			out = append(out, s)
		}
	}
	return out
}

func (e scaleEnv) replicas(t *testing.T, pid string) []ivslive.Replication {
	t.Helper()
	reps, err := e.IVS.ListReplicas(context.Background(), e.Live.MasterARN(), pid)
	if err != nil {
		t.Fatal(err)
	}
	return reps
}

// Scale up, replication (with a failed first attempt and a publisher
// reconnect), drain and scale down, end to end against the emulator.
func TestScalerLifecycle(t *testing.T) {
	e := newScaleEnv(t, nil)
	pid := e.publisher(t, false)
	master := e.Live.MasterARN()
	users := map[string]string{}
	for i := 0; i < 36; i++ {
		users[fmt.Sprint("v", i)] = e.join(t, fmt.Sprint("v", i))
	}
	e.check(t)
	if n := len(e.autoStages(t)); n != 0 {
		t.Fatalf("36 viewers (not more than 0.8×45) created %d stages", n)
	}
	users["v36"] = e.join(t, "v36")
	e.check(t)
	auto := e.autoStages(t)
	if len(auto) != 1 || auto[0].State != ivslive.StageActive || auto[0].Tags["AutoScaled"] != "true" {
		t.Fatalf("after 37 viewers: auto-scaled stages %+v, want one active", auto)
	}
	added := auto[0].ARN
	if auto[0].Replication != nil {
		t.Fatal("replication recorded although the publisher was not publishing")
	}
	e.check(t)
	if n := len(e.autoStages(t)); n != 1 {
		t.Fatalf("a second check created more stages: %d", n)
	}

	// The publisher starts publishing: the next check replicates it.
	e.Emulator.SetPublishing(master, pid, true)
	e.check(t)
	if reps := e.replicas(t, pid); len(reps) != 1 || reps[0].DestinationStageARN != added {
		t.Fatalf("replicas %+v, want one into %s", reps, added)
	}
	if r := e.autoStages(t)[0].Replication; r == nil || r.ParticipantID != pid {
		t.Fatalf("recorded replication %+v", r)
	}
	if got := e.join(t, "v37"); got != added {
		t.Fatalf("the 38th viewer went to %s, want the new, emptier stage", got)
	}
	users["v37"] = added

	// The publisher reconnects with a new token: replication follows.
	pid2 := e.publisher(t, true)
	e.check(t)
	if reps := e.replicas(t, pid); len(reps) != 0 {
		t.Fatalf("old participant still replicated: %+v", reps)
	}
	if reps := e.replicas(t, pid2); len(reps) != 1 || reps[0].DestinationStageARN != added {
		t.Fatalf("new participant replicas %+v", reps)
	}

	// Viewers leave; the added stage is nearly empty but still warming up.
	for i := 0; i < 30; i++ {
		u := fmt.Sprint("v", i)
		e.leave(t, u, users[u])
	}
	e.clock.Add(time.Minute)
	e.check(t)
	if st := e.autoStages(t)[0].State; st != ivslive.StageActive {
		t.Fatalf("stage %s during warm-up", st)
	}
	e.clock.Add(5 * time.Minute)
	e.check(t)
	if st := e.autoStages(t)[0].State; st != ivslive.StageDraining {
		t.Fatalf("stage %s after warm-up with 1 viewer, want draining", st)
	}
	if got := e.join(t, "late"); got != master {
		t.Fatalf("a new viewer was seated on a draining stage: %s", got)
	}
	e.check(t)
	if st := e.autoStages(t)[0].State; st != ivslive.StageDraining {
		t.Fatalf("draining stage with a viewer is %s, want still draining", st)
	}
	e.leave(t, "v37", added)
	e.check(t)
	if st := e.autoStages(t)[0].State; st != ivslive.StageDeleted {
		t.Fatalf("empty draining stage is %s, want deleted", st)
	}
	if _, err := e.IVS.GetStage(context.Background(), added); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Fatalf("stage still in IVS: %v", err)
	}
	if reps := e.replicas(t, pid2); len(reps) != 0 {
		t.Fatalf("replication survived the stage: %+v", reps)
	}
	for i := 0; i < 3; i++ {
		e.check(t)
	}
	if n := len(e.autoStages(t)); n != 1 {
		t.Fatalf("the pool flapped: %d auto-scaled stages recorded", n)
	}
}

// A draining stage whose viewers overflow is put back to work instead of a
// new stage being created; the drain deadline deletes a stage even with
// viewers left.
func TestScalerReactivatesAndDrainDeadline(t *testing.T) {
	e := newScaleEnv(t, func(c *live.Config) { c.Threshold, c.Capacity, c.ScaleDownThreshold = 5, 10, 1 })
	e.publisher(t, true)
	for i := 0; i < 5; i++ {
		e.join(t, fmt.Sprint("a", i))
	}
	e.check(t) // 5 > 4: a stage is added
	added := e.autoStages(t)[0].ARN
	e.clock.Add(10 * time.Minute)
	e.check(t) // 5 viewers on the master, 0 on the new one: 5 >= 0.5×5×1, no drain
	if st := e.autoStages(t)[0].State; st != ivslive.StageActive {
		t.Fatalf("stage is %s", st)
	}
	e.join(t, "b0") // goes to the added stage
	for i := 0; i < 4; i++ {
		e.leave(t, fmt.Sprint("a", i), e.Live.MasterARN())
	}
	e.check(t) // 2 viewers < 2.5: drain the added stage (1 viewer <= 1)
	if st := e.autoStages(t)[0].State; st != ivslive.StageDraining {
		t.Fatalf("stage is %s, want draining", st)
	}
	for i := 0; i < 3; i++ {
		e.join(t, fmt.Sprint("c", i))
	}
	e.check(t) // 5 > 4 again: reactivate rather than create
	auto := e.autoStages(t)
	if len(auto) != 1 || auto[0].State != ivslive.StageActive || auto[0].ARN != added {
		t.Fatalf("after overflow: %+v, want the draining stage active again", auto)
	}
	for i := 0; i < 3; i++ {
		e.leave(t, fmt.Sprint("c", i), e.Live.MasterARN())
	}
	e.check(t) // drain again
	e.clock.Add(11 * time.Minute)
	e.check(t) // past the drain deadline: deleted with its viewer
	if st := e.autoStages(t)[0].State; st != ivslive.StageDeleted {
		t.Fatalf("stage is %s after the drain deadline", st)
	}
	var found bool
	for _, r := range e.Recorded(t) {
		found = found || (r.UserID == "b0" && r.Reason == ivslive.EndStageDeleted)
	}
	if !found {
		t.Fatal("the viewer left on a deleted stage was not closed as stage_deleted")
	}
}

// Replication feeds at most five stages: the scaler stops there, fills what
// it has, then viewers get STAGE_FULL and /api/stats says why.
func TestScalerRespectsReplicationQuota(t *testing.T) {
	e := newScaleEnv(t, func(c *live.Config) { c.Threshold, c.Capacity = 2, 3 })
	pid := e.publisher(t, true)
	seated := 0
	for i := 0; i < 40; i++ {
		r := e.Do(t, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)})
		if r.Status == 200 {
			seated++
		} else if r.Error.Code != "STAGE_FULL" {
			t.Fatalf("join %d: %s", i, r.Raw)
		}
		e.check(t)
	}
	if n := len(e.autoStages(t)); n != 5 {
		t.Fatalf("%d auto-scaled stages, want 5 (the replication quota)", n)
	}
	if seated != 18 {
		t.Fatalf("%d viewers seated, want 6 stages × 3", seated)
	}
	if reps := e.replicas(t, pid); len(reps) != 5 {
		t.Fatalf("%d replicas, want 5", len(reps))
	}
	var stats struct {
		CapacityLeft int `json:"capacityLeft"`
		Scaling      struct {
			CanGrow bool   `json:"canGrow"`
			Blocker string `json:"blocker"`
		} `json:"scaling"`
	}
	e.Must(t, 200, "GET", "/api/stats", nil).Decode(t, &stats)
	if stats.CapacityLeft != 0 || stats.Scaling.CanGrow || stats.Scaling.Blocker == "" {
		t.Fatalf("stats = %+v, want no room and a reason", stats)
	}
}
