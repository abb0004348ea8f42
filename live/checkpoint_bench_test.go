package live_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/sqlite"
)

// BenchmarkCheckpointAtScale seats IVSLIVE_BENCH_VIEWERS viewers (default
// 100,000) on 10 stages in memory presence over a SQLite file, then reports
// the full checkpoint (once per process), an incremental one after 1 % of
// the audience left and as many joined, and the restore at the next start:
//
//	IVSLIVE_BENCH_VIEWERS=1000000 go test -run '^$' -bench CheckpointAtScale -benchtime 1x ./live
func BenchmarkCheckpointAtScale(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("IVSLIVE_BENCH_VIEWERS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	for b.Loop() {
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		now := t0
		clock := func() time.Time { return now }
		open := func() (*live.Service, *memory.Presence) {
			p := memory.NewPresence(db, clock, nil)
			for i := range 10 {
				p.PutStage(ctx, stageARN(i), ivslive.StageActive)
			}
			s := live.New(live.Config{}, nil, nil, db, p, nil)
			s.Now, s.History = clock, db
			return s, p
		}
		svc, p := open()
		p.MarkIntact(ctx)
		join := func(i int) ivslive.ViewerSession {
			u := strconv.Itoa(i)
			r, err := p.Join(ctx, ivslive.JoinRequest{UserID: "user-" + u, SessionID: "vs-" + fmt.Sprintf("%020d", i),
				ParticipantID: "pAbCdEfGhIjK" + u, UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
				IP: "203.0.113.7", Now: now, Threshold: 1 << 30, Capacity: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			return r.Session
		}
		seated := make([]ivslive.ViewerSession, n)
		for i := range n {
			seated[i] = join(i)
		}
		timed := func(what string, f func() int) {
			start := time.Now()
			w := f()
			b.ReportMetric(float64(time.Since(start).Milliseconds()), what+"-ms")
			if what != "restore" {
				b.ReportMetric(float64(w), what+"-rows")
			}
		}
		checkpoint := func() int {
			w, err := svc.Checkpoint(ctx)
			if err != nil {
				b.Fatal(err)
			}
			return w
		}
		timed("full", checkpoint)
		now = now.Add(10 * time.Second)
		for i := range n / 100 {
			s := seated[i*100]
			if _, err := p.Leave(ctx, ivslive.LeaveRequest{StageARN: s.StageARN, UserID: s.UserID, SessionID: s.ID, Now: now}); err != nil {
				b.Fatal(err)
			}
			join(n + i)
		}
		timed("incremental", checkpoint)
		restarted, _ := open()
		timed("restore", func() int {
			r, err := restarted.RestorePresence(ctx)
			if err != nil || r != n {
				b.Fatalf("restored %d of %d: %v", r, n, err)
			}
			return r
		})
		db.Close()
	}
}

func stageARN(i int) string {
	return fmt.Sprintf("arn:aws:ivs:us-east-1:123456789012:stage/bench%07d", i)
}
