package memory_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/memory"
)

// discard is a session sink that keeps nothing: these benchmarks measure
// presence, not history.
type discard struct{}

func (discard) RecordSessions(context.Context, []ivslive.ClosedSession) error { return nil }

// fill seats n viewers over stages stages, as the server seats them (user
// agent and address included), all last seen at t0.
func fill(b *testing.B, p *memory.Presence, n, stages int, t0 time.Time) {
	b.Helper()
	ctx := context.Background()
	for i := range stages {
		if err := p.PutStage(ctx, fmt.Sprintf("arn:aws:ivs:us-east-1:123456789012:stage/scale%02d", i), ivslive.StageActive); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		u := strconv.Itoa(i)
		_, err := p.Join(ctx, ivslive.JoinRequest{UserID: "user-" + u, SessionID: "0197a1b2-c3d4-7e5f-8a9b-" + fmt.Sprintf("%012d", i),
			// Fresh copies, as each request decodes them.
			ParticipantID: "pAbCdEfGhIjK" + u, UserAgent: strings.Clone("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0"),
			IP: strings.Clone("203.0.113.7"), Now: t0, Threshold: 1 << 30, Capacity: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpire measures expiring 100,000 silent viewers over 10 stages in
// the sweeper's batches of 10,000; one op is the whole 100,000.
func BenchmarkExpire(b *testing.B) {
	const n, batch = 100_000, 10_000
	t0 := time.Now()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		p := memory.NewPresence(discard{}, nil, nil)
		fill(b, p, n, 10, t0)
		runtime.GC()
		b.StartTimer()
		total := 0
		for {
			closed, err := p.Expire(ctx, t0.Add(time.Minute), batch)
			if err != nil {
				b.Fatal(err)
			}
			total += len(closed)
			if len(closed) < batch {
				break
			}
		}
		if total != n {
			b.Fatalf("expired %d, want %d", total, n)
		}
	}
}

// BenchmarkViewerMemory seats 1,000,000 viewers and reports the heap they
// take per viewer and the process's resident size. Run it alone, once:
//
//	go test -run '^$' -bench ViewerMemory -benchtime 1x ./memory
func BenchmarkViewerMemory(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		p := memory.NewPresence(discard{}, nil, nil)
		fill(b, p, n, 10, time.Now())
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/viewer")
		b.ReportMetric(float64(rss())/(1<<20), "RSS-MiB")
		runtime.KeepAlive(p)
	}
}

// rss reads the process's resident set size from /proc (0 elsewhere).
func rss() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkLimiterMemory spends one request from each of 1,000,000 session
// budgets (what heartbeats with session tokens do) and reports the heap per
// budget: the other per-viewer cost of a memory-mode server.
func BenchmarkLimiterMemory(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	limit := ivslive.RateLimit{Requests: 12000, Period: time.Minute}
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		l := memory.NewRateLimiter(nil)
		keys := make([]string, 1)
		for i := range n {
			keys[0] = "heartbeat:session:0197a1b2-c3d4-7e5f-8a9b-" + fmt.Sprintf("%012d", i)
			if _, err := l.Allow(ctx, keys, limit); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/budget")
		runtime.KeepAlive(l)
	}
}
