package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
)

// countingIVS counts GetStage calls.
type countingIVS struct {
	ivslive.IVS
	gets int
}

func (c *countingIVS) GetStage(ctx context.Context, arn string) (ivslive.Stage, error) {
	c.gets++
	return c.IVS.GetStage(ctx, arn)
}

// The endpoints of a stage ivslive does not manage are cached for a
// bounded time on the service's clock: within it no GetStage, after it one,
// and a stage deleted in IVS meanwhile gets no more tokens.
func TestForeignStageEndpointsExpire(t *testing.T) {
	ctx := context.Background()
	clock := apitest.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	env := apitest.New(t, apitest.Options{Clock: clock})
	foreign, err := env.IVS.CreateStage(ctx, ivslive.CreateStageInput{Name: "not-ours"})
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingIVS{IVS: env.Live.IVS}
	env.Live.IVS = counting
	token := func() error {
		_, err := env.Live.MediaServerToken(ctx, "relay", foreign.ARN)
		return err
	}
	for i := 0; i < 3; i++ {
		if err := token(); err != nil {
			t.Fatal(err)
		}
	}
	if counting.gets != 1 {
		t.Fatalf("%d GetStage calls for three tokens in a row, want 1 (cached)", counting.gets)
	}
	clock.Add(59 * time.Minute)
	token()
	if counting.gets != 1 {
		t.Fatalf("%d GetStage calls within the hour, want 1", counting.gets)
	}
	clock.Add(2 * time.Minute)
	if err := token(); err != nil || counting.gets != 2 {
		t.Fatalf("after the hour: %v, %d GetStage calls; want the endpoints fetched again", err, counting.gets)
	}
	if err := env.IVS.DeleteStage(ctx, foreign.ARN); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	if err := token(); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Fatalf("a token for a foreign stage deleted in IVS an hour ago: %v, want NOT_FOUND", err)
	}
}
