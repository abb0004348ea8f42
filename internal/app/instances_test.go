package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/metrics"
)

// Two instances on one Redis issue API-mode tokens as fast as they can:
// counted where they arrive, at the emulator, CreateParticipantToken never
// goes over its quota (50 per second, in bursts of at most 50), which each
// instance alone would reach.
func TestIVSQuotaIsSharedAcrossInstances(t *testing.T) {
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/CreateParticipantToken" {
			mu.Lock()
			arrivals = append(arrivals, time.Now())
			mu.Unlock()
		}
		em.ServeHTTP(w, r)
	}))
	defer srv.Close()
	_, prefix := testenv.Redis(t)
	env := map[string]string{"IVS_BACKEND": "emulator", "IVS_ENDPOINT": srv.URL, "REDIS_URL": testenv.RedisURL(), "REDIS_KEY_PREFIX": prefix}
	cfg, err := LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var clients []*ivs.Client
	var regs []*prometheus.Registry
	for i := 0; i < 2; i++ {
		reg := prometheus.NewRegistry()
		a := base(cfg, Options{Log: slog.New(slog.DiscardHandler)})
		a.metrics = metrics.New(reg, nil, nil)
		t.Cleanup(a.Close)
		pres, err := a.openPresence(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		iv, err := a.openIVS(ctx, a.sharedPace(pres))
		if err != nil {
			t.Fatal(err)
		}
		clients, regs = append(clients, iv.client), append(regs, reg)
	}
	stage, err := clients[0].CreateStage(ctx, ivslive.CreateStageInput{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	// slack: calls granted in time may still arrive late, bunched, on a loaded
	// machine (4.5 seen under a load average of 17); without the shared budget
	// the excess is about 150 calls.
	const rate, burst, slack = 50.0, 50, 10
	// A fixed number of calls, not a fixed time: a loaded machine takes
	// longer but still asks for more than the burst plus a second of rate.
	const calls = 160
	var claimed atomic.Int32
	var wg sync.WaitGroup
	for _, c := range clients {
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for claimed.Add(1) <= calls {
					if _, err := (ivs.Tokens{Client: c}).IssueToken(ctx, ivslive.TokenRequest{Stage: stage, Duration: time.Hour,
						Capabilities: []ivslive.Capability{ivslive.Subscribe}}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	for i, reg := range regs {
		fams, _ := reg.Gather()
		var n float64 // calls paced by this instance alone, any operation
		for _, f := range fams {
			for _, m := range f.GetMetric() {
				if f.GetName() == "ivslive_ivs_pace_fallbacks_total" {
					n += m.GetCounter().GetValue()
				}
			}
		}
		if n > 0 {
			t.Fatalf("instance %d paced %v calls alone: the shared budget in Redis failed", i, n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != calls {
		t.Fatalf("%d tokens reached IVS, want %d", len(arrivals), calls)
	}
	// GCRA: any run of calls from the i-th to the j-th arrival fits in the
	// burst plus what the rate refills between them.
	worst := 0.0
	for i := range arrivals {
		for j := i; j < len(arrivals); j++ {
			excess := float64(j-i+1) - (burst + rate*arrivals[j].Sub(arrivals[i]).Seconds())
			worst = max(worst, excess)
		}
	}
	t.Logf("%d CreateParticipantToken calls reached IVS from two instances in %v; worst excess over the quota %.1f calls",
		len(arrivals), arrivals[len(arrivals)-1].Sub(arrivals[0]).Round(time.Millisecond), worst)
	if worst > slack {
		t.Fatalf("two instances together went %.1f calls over the quota of %v/s with bursts of %d", worst, rate, burst)
	}
}
