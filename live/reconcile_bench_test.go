package live_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

// reads counts the calls the reconciler spends of IVS's read quotas.
type reads struct {
	ivslive.IVS
	n atomic.Int64
}

func (r *reads) GetStage(ctx context.Context, arn string) (ivslive.Stage, error) {
	r.n.Add(1)
	return r.IVS.GetStage(ctx, arn)
}

func (r *reads) ListParticipants(ctx context.Context, arn, session string, f ivslive.ParticipantFilter) ([]ivslive.Participant, error) {
	r.n.Add(1)
	return r.IVS.ListParticipants(ctx, arn, session, f)
}

func (r *reads) ListReplicas(ctx context.Context, arn, pid string) ([]ivslive.Replication, error) {
	r.n.Add(1)
	return r.IVS.ListReplicas(ctx, arn, pid)
}

func (r *reads) ListStages(ctx context.Context, next string, max int) ([]ivslive.StageSummary, string, error) {
	r.n.Add(1)
	return r.IVS.ListStages(ctx, next, max)
}

// A steady scaler round with the host publishing into 5 replica stages:
// what the reconciler costs in time and in IVS calls (ivs-calls/op; the
// drift check's ListStages runs once per DriftInterval, not here).
func BenchmarkScalerRoundWithHost(b *testing.B) {
	clock := apitest.NewClock(time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC))
	env := apitest.New(b, apitest.Options{Clock: clock, Live: func(c *live.Config) { c.AutoScale, c.Threshold, c.Capacity = true, 1, 2 }})
	sc := &live.Scaler{Service: env.Live, Leader: alwaysLeader{}, Interval: time.Hour}
	var tok struct {
		ParticipantID string `json:"participantId"`
	}
	env.Must(b, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"}).Decode(b, &tok)
	env.Emulator.SetPublishing(env.Live.MasterARN(), tok.ParticipantID, true)
	ctx := context.Background()
	for i := 0; i < 12; i++ {
		env.Do(b, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)})
		if err := sc.Check(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if reps, _ := env.IVS.ListReplicas(ctx, env.Live.MasterARN(), tok.ParticipantID); len(reps) != 5 {
		b.Fatalf("%d replicas, want 5", len(reps))
	}
	spy := &reads{IVS: env.Live.IVS}
	env.Live.IVS = spy
	b.ResetTimer()
	for b.Loop() {
		if err := sc.Check(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(spy.n.Load())/float64(b.N), "ivs-calls/op")
}
