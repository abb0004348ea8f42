package redis_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

// BenchmarkViewerMemory seats IVSLIVE_BENCH_VIEWERS viewers (default
// 50,000) on 10 stages in Redis presence and reports what Redis holds per
// viewer: the sum of MEMORY USAGE over the test's keys, and the change of
// INFO memory's used_memory (server-wide, so noisy when others use the
// same Redis):
//
//	IVSLIVE_BENCH_VIEWERS=200000 go test -run '^$' -bench ViewerMemory -benchtime 1x ./redis
func BenchmarkViewerMemory(b *testing.B) {
	n := 50_000
	if v, err := strconv.Atoi(os.Getenv("IVSLIVE_BENCH_VIEWERS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	for b.Loop() {
		client, prefix := testenv.Redis(b)
		p := redis.NewPresence(client, prefix)
		usedMemory := func() int64 {
			info, err := client.Info(ctx, "memory").Result()
			if err != nil {
				b.Fatal(err)
			}
			for _, line := range strings.Split(info, "\r\n") {
				if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					return n
				}
			}
			return 0
		}
		for i := range 10 {
			if err := p.PutStage(ctx, fmt.Sprintf("arn:aws:ivs:us-east-1:123456789012:stage/scale%02d", i), ivslive.StageActive); err != nil {
				b.Fatal(err)
			}
		}
		before := usedMemory()
		now := time.Now()
		for i := range n {
			u := strconv.Itoa(i)
			_, err := p.Join(ctx, ivslive.JoinRequest{UserID: "user-" + u, SessionID: "0197a1b2-c3d4-7e5f-8a9b-" + fmt.Sprintf("%012d", i),
				ParticipantID: "pAbCdEfGhIjK" + u, UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
				IP: "203.0.113.7", Now: now, Threshold: 1 << 30, Capacity: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
		}
		after := usedMemory()
		var keys, sessions, live int64
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			m, err := client.MemoryUsage(ctx, iter.Val(), 0).Result()
			if err != nil {
				b.Fatal(err)
			}
			keys += m
			if strings.HasSuffix(iter.Val(), ":sessions") {
				sessions += m
			}
			if strings.HasSuffix(iter.Val(), ":live") {
				live += m
			}
		}
		b.ReportMetric(float64(keys)/float64(n), "keys-B/viewer")
		b.ReportMetric(float64(sessions)/float64(n), "records-B/viewer")
		b.ReportMetric(float64(live)/float64(n), "live-B/viewer")
		b.ReportMetric(float64(after-before)/float64(n), "used_memory-B/viewer")
	}
}
