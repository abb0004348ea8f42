package http_test

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
	"github.com/ivslive/ivslive/live"
)

// BenchmarkVanishingViewers measures how long viewers who vanish (the page
// closes its peer connection; no leave, no more heartbeats) stay in the
// count: 20 real pion subscribers watch a WHIP publisher, then 20 % of them
// vanish at once. Reported: the time until the heartbeat count is right
// again, and the drift against IVS's truth (the emulator's CONNECTED
// viewers, sampled every 5 ms) as viewer-seconds and as its peak. Modes:
// presence following the emulator's push, following ListParticipants
// polled every PRESENCE_RECONCILE_INTERVAL (2 s, the default), and
// heartbeat expiry alone (VIEWER_TIMEOUT 60 s, the sweeper every second;
// the survivors heartbeat every 20 s). In process, over loopback:
//
//	go test -run '^$' -bench VanishingViewers -benchtime 1x ./http/
//
// -vanish.viewers sets the audience (20 % of it vanishes).
func BenchmarkVanishingViewers(b *testing.B) {
	viewers := *vanishViewers
	vanish := viewers / 5
	for _, mode := range []string{"pushed", "polled", "heartbeat-only"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				settle, driftSecs, peak := vanishingRound(b, mode, viewers, vanish)
				b.ReportMetric(settle.Seconds()*1000, "ms-to-right-count")
				b.ReportMetric(driftSecs, "drift-viewer-s")
				b.ReportMetric(float64(peak), "peak-drift")
			}
		})
	}
}

var vanishViewers = flag.Int("vanish.viewers", 20, "BenchmarkVanishingViewers: viewers with a real subscriber; 20 % vanish")

func vanishingRound(b *testing.B, mode string, viewers, vanish int) (settle time.Duration, driftSecs float64, peak int) {
	env := apitest.New(b, apitest.Options{Live: apitestCapacity(1000)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	switch mode {
	case "pushed":
		runAttendance(b, env, participantSources[0].open(b, env), 2*time.Second)
	case "polled":
		runAttendance(b, env, &live.ListedParticipants{IVS: env.IVS}, 2*time.Second)
	case "heartbeat-only":
		sweeper := &live.Sweeper{Service: env.Live, Leader: alwaysLeader{}, Timeout: time.Minute, Interval: time.Second}
		wg.Add(1)
		go func() { defer wg.Done(); sweeper.Run(ctx) }()
	}
	h := publishHost(b, env)
	master := env.Live.MasterARN()
	type seat struct {
		user             string
		Token, SessionID string
	}
	seats := make([]seat, viewers)
	subs := make([]*whiptest.Subscriber, viewers)
	for i := range seats {
		seats[i].user = fmt.Sprintf("v%02d", i)
		env.Must(b, 200, "POST", "/api/token/viewer", map[string]string{"userId": seats[i].user}).Decode(b, &seats[i])
		subs[i] = watch(b, env, h, seats[i].Token)
	}
	// The survivors keep heartbeating, as their pages would.
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, s := range seats[vanish:] {
					if err := env.Live.Heartbeat(ctx, s.user, master, s.SessionID); err != nil && ctx.Err() == nil {
						b.Errorf("heartbeat of %s: %v", s.user, err)
					}
				}
			}
		}
	}()
	truth := func() int {
		n := 0
		for _, p := range env.Emulator.StageParticipants(master) {
			if p.Connected && !p.Published && !p.Replica {
				n++
			}
		}
		return n
	}
	count := func() int {
		st, err := env.Live.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return st.TotalViewers
	}
	testenv.Eventually(b, 10*time.Second, "every viewer connected", func() bool { return truth() == viewers && count() == viewers })

	b.ResetTimer()
	start := time.Now()
	for _, s := range subs[:vanish] {
		s.Close()
	}
	sample := time.NewTicker(5 * time.Millisecond)
	defer sample.Stop()
	for last := start; ; <-sample.C {
		c := count()
		now := time.Now()
		d := c - truth()
		peak = max(peak, d)
		driftSecs += float64(d) * now.Sub(last).Seconds()
		last = now
		if c == viewers-vanish {
			settle = now.Sub(start)
			break
		}
		if now.Sub(start) > 3*time.Minute {
			b.Fatalf("count %d after 3 min, want %d", c, viewers-vanish)
		}
	}
	b.StopTimer()
	return settle, driftSecs, peak
}
