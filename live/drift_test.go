package live_test

import (
	"context"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/live"
)

// Stages tagged as ivslive's that the store does not know are deleted
// (auto-scaled) or adopted (made by hand) after two sightings; stages of
// another environment are left alone; a managed stage deleted outside
// ivslive leaves the pool with its viewers closed.
func TestScalerFixesPoolDrift(t *testing.T) {
	ctx := context.Background()
	e := newScaleEnv(t, nil)
	create := func(name string, tags map[string]string) string {
		t.Helper()
		st, err := e.IVS.CreateStage(ctx, ivslive.CreateStageInput{Name: name, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		return st.ARN
	}
	orphanAuto := create("orphan-auto", map[string]string{live.TagManagedBy: live.ManagedByValue, live.TagEnvironment: "test", live.TagAutoScaled: "true"})
	orphanHand := create("orphan-hand", map[string]string{live.TagManagedBy: live.ManagedByValue, live.TagEnvironment: "test"})
	other := create("other-env", map[string]string{live.TagManagedBy: live.ManagedByValue, live.TagEnvironment: "staging"})
	var created struct {
		Stage struct {
			ARN string `json:"arn"`
		} `json:"stage"`
	}
	e.Must(t, 201, "POST", "/api/stage", map[string]string{"name": "side"}).Decode(t, &created)
	gone := created.Stage.ARN
	e.publisher(t, false)
	e.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "on-side", "stageArn": gone})
	if err := e.IVS.DeleteStage(ctx, gone); err != nil {
		t.Fatal(err)
	}
	exists := func(arn string) bool {
		_, err := e.IVS.GetStage(ctx, arn)
		return ivslive.ErrorCode(err) != ivslive.ENOTFOUND
	}

	e.check(t) // first sighting of the orphans; the deleted stage leaves at once
	st, err := e.Store.FindStageByARN(ctx, gone)
	if err != nil || st.State != ivslive.StageDeleted {
		t.Fatalf("stage deleted outside ivslive: %+v %v, want deleted", st, err)
	}
	var closed bool
	for _, r := range e.Recorded(t) {
		closed = closed || r.UserID == "on-side" && r.Reason == ivslive.EndStageDeleted
	}
	if !closed {
		t.Fatal("its viewer was not closed as stage_deleted")
	}
	if !exists(orphanAuto) || !exists(orphanHand) {
		t.Fatal("an orphan was acted on at its first sighting")
	}
	e.clock.Add(live.DriftInterval)
	e.check(t)
	if exists(orphanAuto) {
		t.Error("the auto-scaled orphan is still in IVS")
	}
	if st, err := e.Store.FindStageByARN(ctx, orphanHand); err != nil || st.State != ivslive.StageActive || st.AutoScaled {
		t.Errorf("the hand-made orphan: %+v %v, want adopted as a hand-made stage", st, err)
	}
	if !exists(other) {
		t.Error("another environment's stage was deleted")
	}
	if _, err := e.Store.FindStageByARN(ctx, other); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Errorf("another environment's stage was adopted: %v", err)
	}
}
