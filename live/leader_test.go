package live_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/redis"
)

// Two instances share one Redis, one stage store and one IVS. Both run a
// leader and a scaler ticking every 10 ms while the pool needs exactly one
// more stage: only the lease holder acts, so exactly one stage is created.
func TestTwoScalersOnOneRedisCreateOneStage(t *testing.T) {
	env := apitest.New(t, apitest.Options{Presence: apitest.RedisPresence, Live: func(c *live.Config) { c.AutoScale = true }})
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	for i := 0; i < 37; i++ {
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)})
	}
	client, prefix := testenv.Redis(t)
	leases := redis.NewLeases(client, prefix)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var leaders []*live.Leader
	var scalers []*live.Scaler
	for i := 0; i < 2; i++ {
		svc := env.Live
		if i == 1 {
			svc = live.New(env.Live.Config, env.IVS, env.Signer, env.Store, env.Presence, slog.New(slog.DiscardHandler))
			svc.History = env.Store
			if err := svc.Bootstrap(ctx); err != nil {
				t.Fatal(err)
			}
		}
		leader := &live.Leader{Leases: leases, Name: "jobs", Owner: fmt.Sprint("instance-", i), TTL: 10 * time.Second, Log: slog.New(slog.DiscardHandler)}
		leaders = append(leaders, leader)
		sc := &live.Scaler{Service: svc, Leader: leader, Interval: 10 * time.Millisecond}
		scalers = append(scalers, sc)
		wg.Add(2)
		go func() { defer wg.Done(); leader.Run(ctx) }()
		go func() { defer wg.Done(); sc.Run(ctx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	lead := -1
	testenv.Eventually(t, 10*time.Second, "a leader", func() bool {
		for i, l := range leaders {
			if l.IsLeader() {
				lead = i
			}
		}
		return lead >= 0
	})
	autoScaled := func() int {
		stages, _, _, err := env.Store.FindStages(context.Background(), ivslive.StageFilter{})
		if err != nil {
			t.Fatal(err)
		}
		auto := 0
		for _, s := range stages {
			if s.AutoScaled {
				auto++
			}
		}
		return auto
	}
	testenv.Eventually(t, 10*time.Second, "an auto-scaled stage", func() bool { return autoScaled() > 0 })
	// Two more whole checks by the leader's scaler, which see the pool
	// large enough: a second stage would have come from one of them.
	for range 2 {
		since := scalers[lead].Status().LastCheck
		testenv.Eventually(t, 10*time.Second, "another check", func() bool { return scalers[lead].Status().LastCheck.After(since) })
	}
	holders := 0
	for _, l := range leaders {
		if l.IsLeader() {
			holders++
		}
	}
	if holders != 1 {
		t.Fatalf("%d instances believed they led, want 1", holders)
	}
	if auto := autoScaled(); auto != 1 {
		t.Fatalf("%d auto-scaled stages created, want exactly 1", auto)
	}
}

// When the leader goes away, another instance takes over within the TTL.
func TestLeaderTakeover(t *testing.T) {
	client, prefix := testenv.Redis(t)
	leases := redis.NewLeases(client, prefix)
	log := slog.New(slog.DiscardHandler)
	a := &live.Leader{Leases: leases, Name: "jobs", Owner: "a", TTL: 300 * time.Millisecond, Log: log}
	b := &live.Leader{Leases: leases, Name: "jobs", Owner: "b", TTL: 300 * time.Millisecond, Log: log}
	actx, killA := context.WithCancel(context.Background())
	bctx, stopB := context.WithCancel(context.Background())
	defer stopB()
	go a.Run(actx)
	testenv.Eventually(t, 5*time.Second, "a leading", a.IsLeader)
	if b.TryLead(bctx) {
		t.Fatal("b took the lease a holds")
	}
	termA := a.Token()
	killA() // a graceful stop releases the lease
	go b.Run(bctx)
	testenv.Eventually(t, 5*time.Second, "b leading", b.IsLeader)
	if b.Token() <= termA {
		t.Fatalf("b took over with term %d, want newer than a's %d", b.Token(), termA)
	}
}
