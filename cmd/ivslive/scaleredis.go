package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// redisProbe reads the Redis a --serve run uses (REDIS_URL), so the report
// can say what the live viewers cost there (issue 17: at most 300 B each)
// and what Redis itself found slow. Point REDIS_URL at a private
// redis-server: used_memory counts every client's data.
type redisProbe struct {
	client *goredis.Client
	before int64 // used_memory before the first viewer
	mu     sync.Mutex
	peak   int64 // the highest used_memory sampled during the run
}

// newRedisProbe connects to rawURL; nil when it is empty or unusable (the
// run goes on without the Redis figures).
func newRedisProbe(rawURL string, w io.Writer) *redisProbe {
	if rawURL == "" {
		return nil
	}
	opt, err := goredis.ParseURL(rawURL)
	if err != nil {
		fmt.Fprintf(w, "loadtest: REDIS_URL unusable for the memory figures: %v\n", err)
		return nil
	}
	p := &redisProbe{client: goredis.NewClient(opt)}
	p.before = p.usedMemory()
	// Reset what the report reads at the end, so it covers this run only.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.client.SlowLogReset(ctx)
	p.client.ConfigResetStat(ctx)
	return p
}

// sample reads used_memory every 5 s until ctx ends, keeping its peak:
// the end of a run with silent viewers no longer holds the whole audience.
func (p *redisProbe) sample(ctx context.Context) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		m := p.usedMemory()
		p.mu.Lock()
		p.peak = max(p.peak, m)
		p.mu.Unlock()
	}
}

// usedMemory is INFO memory's used_memory (0 when unread).
func (p *redisProbe) usedMemory() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := p.client.Info(ctx, "memory").Result()
	if err != nil {
		return 0
	}
	return infoField(info, "used_memory")
}

// infoField reads an integer field of an INFO answer.
func infoField(info, name string) int64 {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// report writes used_memory before and now with the cost per live viewer,
// the commands by time spent, and the slow log's entries.
func (p *redisProbe) report(w io.Writer, live, joined int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	after := p.usedMemory()
	fmt.Fprintf(w, "\nRedis used_memory: %d B before the first viewer, %d B at the end of the run", p.before, after)
	if live > 0 {
		fmt.Fprintf(w, ": %d B per live viewer (%d)", (after-p.before)/int64(live), live)
	}
	fmt.Fprintln(w)
	p.mu.Lock()
	peak := p.peak
	p.mu.Unlock()
	if peak > 0 && joined > 0 {
		fmt.Fprintf(w, "Redis used_memory peak (every 5 s): %d B: %d B per viewer joined (%d)\n", peak, (peak-p.before)/int64(joined), joined)
	}
	if info, err := p.client.Info(ctx, "commandstats").Result(); err == nil {
		fmt.Fprintln(w, "Redis commands during the run (calls, µs per call):")
		for _, line := range strings.Split(info, "\n") {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok || !strings.HasPrefix(name, "cmdstat_") {
				continue
			}
			f := map[string]string{}
			for _, kv := range strings.Split(rest, ",") {
				k, v, _ := strings.Cut(kv, "=")
				f[k] = v
			}
			fmt.Fprintf(w, "  %-14s %10s calls %8s µs\n", strings.TrimPrefix(name, "cmdstat_"), f["calls"], f["usec_per_call"])
		}
	}
	logs, err := p.client.SlowLogGet(ctx, 30).Result()
	if err == nil {
		fmt.Fprintf(w, "Redis slow log (over slowlog-log-slower-than, newest first): %d shown\n", len(logs))
		for _, l := range logs {
			args := strings.Join(l.Args, " ")
			if len(args) > 60 {
				args = args[:60] + "…"
			}
			fmt.Fprintf(w, "  %s %s %s\n", l.Time.UTC().Format(time.TimeOnly), l.Duration, args)
		}
	}
}
