package redis

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive/internal/testenv"
)

var benchScript = goredis.NewScript(`return redis.call('zadd', KEYS[1], 'XX', 'GT', 'CH', ARGV[1], ARGV[2])`)

// BenchmarkPipelining compares the Batcher with go-redis's own
// AutoPipeliner (and the plain client) on the heartbeat's two shapes: one
// command, and one script, from 64 goroutines. The AutoPipeliner is as fast
// but fails the Batcher's contract (batcher_test.go), so only the Batcher
// is used.
func BenchmarkPipelining(b *testing.B) {
	client, prefix := testenv.Redis(b)
	key := prefix + "bench"
	ctx := context.Background()
	for i := range 1000 {
		client.ZAdd(ctx, key, goredis.Z{Score: 1, Member: strconv.Itoa(i)})
	}
	ap, err := client.AutoPipeline()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ap.Close() })
	bat := NewBatcher(client, 1)
	b.Cleanup(func() { bat.Close() })
	var n atomic.Int64
	zadd := map[string]func() error{
		"batcher": func() error {
			i := n.Add(1)
			return bat.Do(ctx, "zadd", key, "XX", "GT", "CH", i, strconv.Itoa(int(i%1000))).Err()
		},
		"autopipeline": func() error {
			i := n.Add(1)
			return ap.ZAddArgs(ctx, key, goredis.ZAddArgs{XX: true, GT: true, Ch: true, Members: []goredis.Z{{Score: float64(i), Member: strconv.Itoa(int(i % 1000))}}}).Err()
		},
		"client": func() error {
			i := n.Add(1)
			return client.Do(ctx, "zadd", key, "XX", "GT", "CH", i, strconv.Itoa(int(i%1000))).Err()
		},
	}
	script := map[string]goredis.Scripter{"batcher": bat, "autopipeline": ap, "client": client}
	for _, name := range []string{"client", "batcher", "autopipeline"} {
		b.Run("zadd/"+name, func(b *testing.B) {
			b.SetParallelism(32) // 64 goroutines on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := zadd[name](); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("script/"+name, func(b *testing.B) {
			b.SetParallelism(32) // 64 goroutines on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if err := benchScript.Run(ctx, script[name], []string{key}, i, strconv.Itoa(int(i%1000))).Err(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
