package contract

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
)

const (
	benchStages  = 10
	benchViewers = 10_000 // seated before timing, spread over the stages
)

// BenchmarkPresence measures heartbeat and join on a store from open, with
// benchStages stages and benchViewers seated viewers. Both twins run it, so
// their numbers compare directly.
func BenchmarkPresence(b *testing.B, open func(b *testing.B) ivslive.PresenceStore) {
	b.Run("heartbeat", func(b *testing.B) {
		p, t0, stages := seed(b, open)
		ctx := context.Background()
		users, sessions := names("v", benchViewers), names("sv", benchViewers)
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := next.Add(1)
				i := int(k % benchViewers)
				err := p.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: stages[i], UserID: users[i],
					SessionID: sessions[i], Now: t0.Add(time.Duration(k) * time.Millisecond)})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("join-new", func(b *testing.B) {
		p, t0, _ := seed(b, open)
		ctx := context.Background()
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := p.Join(ctx, benchJoin(fmt.Sprint("n", next.Add(1)), t0)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("join-again", func(b *testing.B) {
		p, t0, _ := seed(b, open)
		ctx := context.Background()
		users := names("v", benchViewers)
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := next.Add(1)
				if _, err := p.Join(ctx, benchJoin(users[k%benchViewers], t0.Add(time.Duration(k)*time.Millisecond))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// seed fills a store and returns it, the join time and each viewer's stage.
func seed(b *testing.B, open func(b *testing.B) ivslive.PresenceStore) (ivslive.PresenceStore, time.Time, []string) {
	b.Helper()
	p := open(b)
	ctx := context.Background()
	for i := 0; i < benchStages; i++ {
		if err := p.PutStage(ctx, fmt.Sprintf("arn:aws:ivs:us-east-1:123456789012:stage/bench%02d", i), ivslive.StageActive); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	stages := make([]string, benchViewers)
	for i := range stages {
		res, err := p.Join(ctx, benchJoin(fmt.Sprint("v", i), t0))
		if err != nil {
			b.Fatal(err)
		}
		stages[i] = res.Session.StageARN
	}
	return p, t0, stages
}

func benchJoin(user string, now time.Time) ivslive.JoinRequest {
	return ivslive.JoinRequest{UserID: user, SessionID: "s" + user, ParticipantID: "p" + user,
		UserAgent: "bench", IP: "192.0.2.1", Now: now, Threshold: 1 << 30, Capacity: 1 << 30}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

// BenchmarkHistoryWrites measures batched session records (500 per batch,
// the Recorder's batch size) and reports sessions per second.
func BenchmarkHistoryWrites(b *testing.B, open func(b *testing.B) ivslive.HistoryStore) {
	h := open(b)
	ctx := context.Background()
	const batch = 500
	sessions := make([]ivslive.ClosedSession, batch)
	seq := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range sessions {
			seq++
			id := fmt.Sprint("bench-", seq)
			sessions[j] = ivslive.ClosedSession{
				ViewerSession: ivslive.ViewerSession{ID: id, UserID: fmt.Sprint("u", seq%5000), StageARN: stageA,
					ParticipantID: "p" + id, JoinedAt: t0, LastSeen: t0.Add(time.Minute), UserAgent: "Mozilla/5.0", IP: "192.0.2.1"},
				LeftAt: t0.Add(time.Minute), Reason: ivslive.EndLeave,
			}
		}
		if err := h.RecordSessions(ctx, sessions); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "sessions/s")
}
