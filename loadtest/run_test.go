package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/loadtest"
)

// roomy lets the master stage take every simulated viewer.
func roomy(c *live.Config) { c.Capacity, c.Threshold = 100000, 100000 }

// run runs o, logs the report and returns it with the progress output.
func run(t *testing.T, o loadtest.Options) (*loadtest.Report, *bytes.Buffer) {
	t.Helper()
	var progress bytes.Buffer
	r, err := loadtest.Run(context.Background(), o, &progress)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	r.WriteText(&text)
	t.Logf("\n%s", text.String())
	return r, &progress
}

// serverViewers reads the test server's live count.
func serverViewers(t *testing.T, env *apitest.Env) int {
	t.Helper()
	var d struct {
		TotalViewers int `json:"totalViewers"`
	}
	env.Must(t, 200, "GET", "/api/stats/viewers", nil).Decode(t, &d)
	return d.TotalViewers
}

func TestRunIntervals(t *testing.T) {
	for _, auth := range []string{loadtest.AuthKey, loadtest.AuthSession} {
		t.Run(auth, func(t *testing.T) {
			env := apitest.New(t, apitest.Options{Live: roomy})
			o := loadtest.Options{URL: env.URL, Key: apitest.Key, Viewers: 200, Ramp: time.Second, Duration: 3 * time.Second,
				Interval: 500 * time.Millisecond, Concurrency: 16, LeaveRatio: 0.25, Auth: auth, Publisher: true,
				Timeout: time.Hour, SampleEvery: 250 * time.Millisecond}
			r, progress := run(t, o)

			if r.Totals.Errors != 0 {
				t.Errorf("%d errors", r.Totals.Errors)
			}
			if n := r.Routes[loadtest.RoutePublisher].Count; n != 1 {
				t.Errorf("publisher calls = %d, want 1", n)
			}
			// Every join sent succeeds; how many are sent in 3 s is the
			// machine's speed (a starved -race run seated 160), which is
			// for benchmarks: the counts below follow from those joined.
			joined := r.Totals.Joined
			if n := r.Routes[loadtest.RouteViewerToken].Count; n != int64(joined) || joined < 100 || joined > 200 {
				t.Errorf("joins = %d, joined = %d, want all of them and 100..200", n, joined)
			}
			// Viewer i joins at i×5 ms and beats every 450 to 550 ms until
			// 3 s: at most about 200 × (3 − 0.5) / 0.5 = 1000, a few less
			// for the partial last interval, so more would break the pacing.
			// A loaded machine seats viewers late and sends fewer (104 seen
			// under -race beside other work), never more.
			if n := r.Routes[loadtest.RouteHeartbeat].Count; n < 1 || n > 1150 {
				t.Errorf("heartbeats = %d, want 1..1150", n)
			}
			left := int(math.Round(0.25 * float64(joined)))
			if n := r.Routes[loadtest.RouteLeave].Count; n != int64(left) || r.Totals.Left != left || r.Totals.Silent != joined-left {
				t.Errorf("leaves = %d, left %d, silent %d; want %d, %d, %d", n, r.Totals.Left, r.Totals.Silent, left, left, joined-left)
			}
			if r.Totals.SessionFallbacks != 0 {
				t.Errorf("%d session fallbacks", r.Totals.SessionFallbacks)
			}
			a := r.Accuracy
			if a.Samples < 8 || a.WithinBounds < a.Samples-1 {
				t.Errorf("accuracy: %d of %d samples within bounds (worst %d): %+v", a.WithinBounds, a.Samples, a.WorstDeviation, a.Series)
			}
			if last, silent := a.Series[len(a.Series)-1], joined-left; last.Server != silent || last.ModelMin > silent || last.ModelMax < silent {
				t.Errorf("last sample %+v, want %d in the band", last, silent)
			}
			if n := serverViewers(t, env); n != r.Totals.Silent {
				t.Errorf("server counts %d viewers after the run, want the %d silent ones", n, r.Totals.Silent)
			}
			if !strings.Contains(progress.String(), "req/s") || strings.Contains(progress.String(), "\r") {
				t.Errorf("progress (not a terminal) = %q", progress.String())
			}
		})
	}
}

func TestRunClosedLoop(t *testing.T) {
	env := apitest.New(t, apitest.Options{Live: roomy})
	o := loadtest.Options{URL: env.URL, Key: apitest.Key, Viewers: 50, Duration: 2 * time.Second, Concurrency: 8,
		LeaveRatio: 1, Publisher: true, Timeout: time.Hour, Terminal: true}
	r, progress := run(t, o)
	hb := r.Routes[loadtest.RouteHeartbeat]
	if hb.Count == 0 || r.Totals.Errors != 0 {
		t.Fatalf("heartbeats %d, errors %d", hb.Count, r.Totals.Errors)
	}
	wall := r.End.Sub(r.Start).Seconds()
	if want := float64(hb.Count) / wall; wall < 2 || wall > 4 || hb.RPS < want*0.99 || hb.RPS > want*1.01 {
		t.Errorf("rps %.1f, count %d over %.2f s", hb.RPS, hb.Count, wall)
	}
	t.Logf("closed loop: %d heartbeats, %.0f req/s at concurrency 8", hb.Count, hb.RPS)
	l := hb.LatencyMs
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("percentiles out of order: %+v", l)
	}
	if !o.Terminal || !strings.Contains(progress.String(), "\r") || !strings.HasSuffix(progress.String(), "\n") {
		t.Errorf("terminal progress = %q", progress.String())
	}
	if a := r.Accuracy; a.WithinBounds < a.Samples-1 {
		t.Errorf("accuracy: %d of %d samples within bounds: %+v", a.WithinBounds, a.Samples, a.Series)
	}
	if n := serverViewers(t, env); n != 0 || r.Totals.Left != 50 {
		t.Errorf("server counts %d viewers, %d left; want 0, 50", n, r.Totals.Left)
	}
}

// TestRunCountsErrors runs against a master stage that seats only 10 of the
// 50 viewers, and checks the refusals are counted while the run goes on; its
// report must also survive JSON and never show the key.
func TestRunCountsErrors(t *testing.T) {
	env := apitest.New(t, apitest.Options{Live: func(c *live.Config) { c.Capacity, c.Threshold = 10, 10 }})
	o := loadtest.Options{URL: env.URL, Key: apitest.Key, Viewers: 50, Ramp: 500 * time.Millisecond, Duration: 1500 * time.Millisecond,
		Interval: 300 * time.Millisecond, Concurrency: 8, LeaveRatio: 0.5, Publisher: true, Timeout: time.Hour,
		SampleEvery: 200 * time.Millisecond}
	r, err := loadtest.Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	join := r.Routes[loadtest.RouteViewerToken]
	if join.Count != 50 || join.Errors[503] != 40 || len(join.Errors) != 1 || r.Totals.Joined != 10 {
		t.Errorf("joins %d, errors %v, joined %d; want 50, 40×503, 10", join.Count, join.Errors, r.Totals.Joined)
	}
	if hb := r.Routes[loadtest.RouteHeartbeat]; hb.Count == 0 || len(hb.Errors) != 0 {
		t.Errorf("heartbeats %d, errors %v", hb.Count, hb.Errors)
	}
	if r.Totals.Left != 5 || r.Totals.Errors != 40 {
		t.Errorf("left %d, errors %d; want 5, 40", r.Totals.Left, r.Totals.Errors)
	}

	var js, text bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	r.WriteText(&text)
	for name, out := range map[string]string{"JSON": js.String(), "text": text.String()} {
		if strings.Contains(out, apitest.Key) {
			t.Errorf("the %s report contains the key:\n%s", name, out)
		}
	}
	if !strings.Contains(text.String(), "503×40") || !strings.Contains(text.String(), "server and simulator agreed in") {
		t.Errorf("text report:\n%s", text.String())
	}
	var back loadtest.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("JSON round trip changed the report:\n%+v\n%+v", back, *r)
	}
	if !strings.Contains(js.String(), `"POST /api/token/viewer"`) || !strings.Contains(js.String(), `"withinBounds"`) {
		t.Errorf("JSON report:\n%s", js.String())
	}
}

// TestRunNetworkErrors points at a port nobody listens on: every request
// fails with status 0, grouped by its text, and the run still ends on time.
func TestRunNetworkErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	o := loadtest.Options{URL: url, Key: "k", Viewers: 5, Duration: 300 * time.Millisecond, Interval: 100 * time.Millisecond,
		Concurrency: 2, LeaveRatio: 1, Auth: loadtest.AuthSession}
	r, err := loadtest.Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	join := r.Routes[loadtest.RouteViewerToken]
	if join.Count != 5 || join.Errors[0] != 5 || len(join.ErrorTexts) != 1 || r.Totals.Joined != 0 {
		t.Fatalf("joins %+v, joined %d", join, r.Totals.Joined)
	}
	for text := range join.ErrorTexts {
		if !strings.Contains(text, "refused") || strings.Contains(text, url) {
			t.Errorf("error text %q", text)
		}
	}
	if r.Accuracy.Samples != 0 || r.Routes[loadtest.RouteStats].Errors[0] == 0 {
		t.Errorf("accuracy %+v, stats %+v", r.Accuracy, r.Routes[loadtest.RouteStats])
	}
	if d := r.End.Sub(r.Start); d < 300*time.Millisecond || d > 2*time.Second {
		t.Errorf("run took %s", d)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	env := apitest.New(t, apitest.Options{Live: roomy})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	o := loadtest.Options{URL: env.URL, Key: apitest.Key, Viewers: 20, Duration: time.Minute, Concurrency: 4, Publisher: true}
	t0 := time.Now()
	r, err := loadtest.Run(ctx, o, nil)
	if !errors.Is(err, context.DeadlineExceeded) || r == nil {
		t.Fatalf("Run = %v, %v; want a report and the deadline", r, err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("Run took %s after its context ended", d)
	}
	if r.Totals.Errors != 0 {
		t.Errorf("stopping counted %d errors: %+v", r.Totals.Errors, r.Routes)
	}
}

func TestOptionsInvalid(t *testing.T) {
	good := loadtest.Options{URL: "http://localhost:3000", Viewers: 1, Duration: time.Second}
	for name, edit := range map[string]func(*loadtest.Options){
		"no URL":      func(o *loadtest.Options) { o.URL = "" },
		"bad scheme":  func(o *loadtest.Options) { o.URL = "ftp://x" },
		"no duration": func(o *loadtest.Options) { o.Duration = 0 },
		"long ramp":   func(o *loadtest.Options) { o.Ramp = 2 * time.Second },
		"ratio":       func(o *loadtest.Options) { o.LeaveRatio = 1.5 },
		"auth":        func(o *loadtest.Options) { o.Auth = "cookie" },
		"negative":    func(o *loadtest.Options) { o.Viewers = -1 },
		"silent":      func(o *loadtest.Options) { o.SilentRatio = 2 },
		"silent at":   func(o *loadtest.Options) { o.SilentRatio, o.Interval, o.SilentAt = 0.5, time.Second, 2*time.Second },
	} {
		o := good
		edit(&o)
		if r, err := loadtest.Run(context.Background(), o, nil); err == nil || r != nil {
			t.Errorf("%s: Run = %v, %v; want an error", name, r, err)
		}
	}
}

// TestRunWarmup: what is sent during the warmup is made but left out of the
// figures, so the joins at the start do not count and the rate is the
// steady state's. Few viewers, so that even a starved -race run seats them all within
// the warmup (40 at 4 at a time once spilled one join past a 1 s warmup).
func TestRunWarmup(t *testing.T) {
	env := apitest.New(t, apitest.Options{Live: roomy})
	o := loadtest.Options{URL: env.URL, Key: apitest.Key, Viewers: 12, Duration: 3 * time.Second, Warmup: 1500 * time.Millisecond,
		Concurrency: 4, LeaveRatio: 1, Publisher: true, Timeout: time.Hour}
	r, _ := run(t, o)
	if r.Totals.Joined != 12 || r.Totals.Left != 12 {
		t.Fatalf("joined %d, left %d; want 12 and 12", r.Totals.Joined, r.Totals.Left)
	}
	if n := r.Routes[loadtest.RouteViewerToken].Count; n != 0 {
		t.Errorf("%d joins counted; they were all sent in the warmup", n)
	}
	if n := r.Routes[loadtest.RouteLeave].Count; n != 12 {
		t.Errorf("leaves counted %d, want 12 (after the warmup)", n)
	}
	hb := r.Routes[loadtest.RouteHeartbeat]
	wall := r.End.Sub(r.Start) - 1500*time.Millisecond
	if want := float64(hb.Count) / wall.Seconds(); hb.Count == 0 || hb.RPS < want*0.99 || hb.RPS > want*1.01 {
		t.Errorf("heartbeat rate %.1f over %d requests, want %.1f (after the warmup)", hb.RPS, hb.Count, want)
	}
	if r.Options.Warmup != "1.5s" {
		t.Errorf("echoed warmup %q", r.Options.Warmup)
	}
	o.Warmup = o.Duration
	if _, err := loadtest.Run(context.Background(), o, nil); err == nil {
		t.Error("a warmup as long as the run was accepted")
	}
}
