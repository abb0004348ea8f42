package ivs_test

import (
	"github.com/aws/aws-sdk-go-v2/credentials"

	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
)

// arrivals records when each operation reached the emulator.
type arrivals struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (a *arrivals) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.at[strings.TrimPrefix(r.URL.Path, "/")] = append(a.at[strings.TrimPrefix(r.URL.Path, "/")], time.Now())
		a.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (a *arrivals) of(op string) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.at[op]...)
}

// countedClient is newClient with the emulator's arrivals recorded.
func countedClient(t *testing.T, o ivs.Options) (*ivs.Client, *emulator.Emulator, *arrivals) {
	t.Helper()
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := &arrivals{at: map[string][]time.Time{}}
	srv := httptest.NewServer(seen.wrap(em))
	t.Cleanup(srv.Close)
	o.Endpoint, o.Credentials = srv.URL, credentials.NewStaticCredentialsProvider("test", "test", "")
	c, err := ivs.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c, em, seen
}

// Every attempt costs quota at AWS, so the SDK's retries wait for their
// turn too: with 1 call per second, a throttled call retried at once (the
// backoff is shortened to 1 ms) reaches IVS again only a second later.
func TestRetriesArePaced(t *testing.T) {
	c, em, seen := countedClient(t, ivs.Options{Quotas: map[string]float64{"GetStage": 1}, RetryMaxBackoff: time.Millisecond})
	ctx := context.Background()
	st, err := c.CreateStage(ctx, ivslive.CreateStageInput{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	em.InjectError("GetStage", "ThrottlingException", 429, 1)
	if _, err := c.GetStage(ctx, st.ARN); err != nil {
		t.Fatalf("GetStage retried after one throttle: %v", err)
	}
	at := seen.of("GetStage")
	if len(at) != 2 {
		t.Fatalf("%d attempts reached IVS, want 2", len(at))
	}
	// The bucket's refill is a second; the timestamps are taken after the
	// pacer let each attempt go, so allow a little for scheduling.
	if gap := at[1].Sub(at[0]); gap < 900*time.Millisecond {
		t.Fatalf("the retry reached IVS %v after the first attempt, within the 1 call/s quota's second", gap)
	}
}

// failingLimiter is a shared budget whose store is down.
type failingLimiter struct{ calls int }

func (f *failingLimiter) Allow(context.Context, []string, ivslive.RateLimit) (ivslive.RateDecision, error) {
	f.calls++
	return ivslive.RateDecision{}, errors.New("redis: connection refused")
}

// refusingLimiter is a shared budget that other instances have spent: it
// refuses the first n checks.
type refusingLimiter struct {
	n, calls int
	keys     []string
	limit    ivslive.RateLimit
}

func (f *refusingLimiter) Allow(_ context.Context, keys []string, limit ivslive.RateLimit) (ivslive.RateDecision, error) {
	f.calls++
	f.keys, f.limit = keys, limit
	if f.calls <= f.n {
		return ivslive.RateDecision{Limit: limit.Requests, RetryAfter: 20 * time.Millisecond}, nil
	}
	return ivslive.RateDecision{Allowed: true, Limit: limit.Requests}, nil
}

// A call waits while the shared budget refuses it, and goes when it allows.
func TestSharedBudgetIsWaitedFor(t *testing.T) {
	shared := &refusingLimiter{n: 3}
	c, _, _ := countedClient(t, ivs.Options{Shared: shared, Quotas: map[string]float64{"ListStages": 1000}})
	if _, _, err := c.ListStages(context.Background(), "", 1); err != nil {
		t.Fatal(err)
	}
	want := ivslive.RateLimit{Requests: 1000, Period: time.Second}
	if shared.calls != 4 || len(shared.keys) != 1 || !strings.Contains(shared.keys[0], "ListStages") || shared.limit != want {
		t.Fatalf("shared limiter asked %d times with %v %+v, want 4 times for ListStages at %+v", shared.calls, shared.keys, shared.limit, want)
	}
}

// When the shared budget fails, calls still go, paced by this instance
// alone; each is counted and the change is logged once.
func TestSharedBudgetFailureFallsBack(t *testing.T) {
	var logs bytes.Buffer
	shared := &failingLimiter{}
	var counted []string
	c, _, _ := countedClient(t, ivs.Options{Shared: shared, OnSharedError: func(op string) { counted = append(counted, op) },
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := 0; i < 3; i++ {
		if _, _, err := c.ListStages(context.Background(), "", 1); err != nil {
			t.Fatalf("call %d with the shared budget down: %v", i, err)
		}
	}
	if len(counted) != 3 || counted[0] != "ListStages" {
		t.Fatalf("counted %v, want 3 ListStages", counted)
	}
	if n := strings.Count(logs.String(), "shared IVS rate budget is unavailable"); n != 1 {
		t.Fatalf("logged the fallback %d times, want once:\n%s", n, logs.String())
	}
}

// quotaLimit keeps the local bucket's shape in the shared budget.
func TestQuotaAsRateLimit(t *testing.T) {
	for tps, want := range map[float64]ivslive.RateLimit{
		50:  {Requests: 50, Period: time.Second},
		0.5: {Requests: 1, Period: 2 * time.Second},
		2.5: {Requests: 2, Period: 800 * time.Millisecond},
	} {
		shared := &refusingLimiter{}
		c, _, _ := countedClient(t, ivs.Options{Shared: shared, Quotas: map[string]float64{"ListStages": tps}})
		if _, _, err := c.ListStages(context.Background(), "", 1); err != nil {
			t.Fatal(err)
		}
		if shared.limit != want {
			t.Errorf("%v calls/s became %+v, want %+v", tps, shared.limit, want)
		}
	}
}
