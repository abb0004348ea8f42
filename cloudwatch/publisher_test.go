package cloudwatch

import (
	"github.com/ivslive/ivslive/internal/cwfake"
	"github.com/ivslive/ivslive/internal/testenv"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testNow is the fixed clock of the tests, with milliseconds because the wire
// format keeps them.
func testNow() time.Time { return time.Date(2025, 10, 21, 10, 30, 0, 123e6, time.UTC) }

// newTest returns a Publisher sending to f, with short retry delays, and
// the buffer its logs go to.
func newTest(t *testing.T, f *cwfake.Fake, o Options) (*Publisher, *testenv.Buffer) {
	t.Helper()
	logs := &testenv.Buffer{}
	o.Client = f.Client()
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.Now == nil {
		o.Now = testNow
	}
	p := New(o)
	p.firstDelay, p.maxDelay = 10*time.Millisecond, 40*time.Millisecond
	return p, logs
}

func TestSendWire(t *testing.T) {
	f := cwfake.New(t)
	p, _ := newTest(t, f, Options{Namespace: "IVS/Test", Environment: "production"})
	m := Metrics{
		TotalViewers: 42,
		ActiveStages: 2,
		StageViewers: map[string]int{
			"arn:aws:ivs:us-east-1:123456789012:stage/b": 12,
			"arn:aws:ivs:us-east-1:123456789012:stage/a": 30,
		},
		TokensIssued: 7,
		APIErrors:    3,
	}
	if err := p.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	calls, requests, _ := f.Snapshot()
	if len(calls) != 1 || requests != 1 {
		t.Fatalf("%d calls in %d requests, want 1", len(calls), requests)
	}
	base := map[string]string{"Environment": "production", "Service": "ivslive"}
	stage := func(arn string) map[string]string {
		return map[string]string{"Environment": "production", "Service": "ivslive", "StageArn": arn}
	}
	want := cwfake.Call{AccessKey: "AKID", Namespace: "IVS/Test", Gzipped: true, Data: []cwfake.Datum{
		{Name: "TotalViewers", Value: 42, Unit: "Count", Timestamp: testNow(), Dims: base},
		{Name: "ActiveStages", Value: 2, Unit: "Count", Timestamp: testNow(), Dims: base},
		{Name: "TokensIssued", Value: 7, Unit: "Count", Timestamp: testNow(), Dims: base},
		{Name: "ApiErrors", Value: 3, Unit: "Count", Timestamp: testNow(), Dims: base},
		{Name: "StageViewers", Value: 30, Unit: "Count", Timestamp: testNow(), Dims: stage("arn:aws:ivs:us-east-1:123456789012:stage/a")},
		{Name: "StageViewers", Value: 12, Unit: "Count", Timestamp: testNow(), Dims: stage("arn:aws:ivs:us-east-1:123456789012:stage/b")},
	}}
	if d := cmp.Diff(want, calls[0]); d != "" {
		t.Errorf("request (-want +got):\n%s", d)
	}
}

func TestDefaults(t *testing.T) {
	f := cwfake.New(t)
	f.Plain = true // the uncompressed body, too
	p, _ := newTest(t, f, Options{})
	if err := p.Send(t.Context(), Metrics{StageViewers: map[string]int{"": 5}}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	calls, _, _ := f.Snapshot()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	c := calls[0]
	if c.Gzipped {
		t.Error("body gzipped with compression disabled")
	}
	if c.Namespace != "IVS/Production" {
		t.Errorf("namespace %q, want IVS/Production", c.Namespace)
	}
	// The stage without an ARN is left out rather than failing the call.
	if len(c.Data) != 4 {
		t.Errorf("%d metric data, want the 4 totals", len(c.Data))
	}
	for _, d := range c.Data {
		want := map[string]string{"Environment": "development", "Service": "ivslive"}
		if d.Value != 0 || !cmp.Equal(d.Dims, want) {
			t.Errorf("%s = %v %v, want 0 %v", d.Name, d.Value, d.Dims, want)
		}
	}
}

func TestSendBatches(t *testing.T) {
	f := cwfake.New(t)
	p, _ := newTest(t, f, Options{Environment: "production"})
	const stages = 1200
	m := Metrics{TotalViewers: stages * 3, ActiveStages: stages, StageViewers: map[string]int{}}
	for i := range stages {
		m.StageViewers[fmt.Sprintf("arn:aws:ivs:us-east-1:123456789012:stage/s%04d", i)] = i
	}
	if err := p.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	calls, _, _ := f.Snapshot()
	if len(calls) != 3 { // 1,204 metric data
		t.Fatalf("%d calls, want 3", len(calls))
	}
	seen := map[string]int{}
	for i, c := range calls {
		if len(c.Data) > maxDataPerCall {
			t.Errorf("call %d has %d metric data, want at most %d", i, len(c.Data), maxDataPerCall)
		}
		for _, d := range c.Data {
			if d.Name != "StageViewers" {
				seen[d.Name]++
				continue
			}
			arn := d.Dims["StageArn"]
			if m.StageViewers[arn] != int(d.Value) {
				t.Errorf("%s = %v, want %d", arn, d.Value, m.StageViewers[arn])
			}
			seen[arn]++
		}
	}
	if len(seen) != stages+4 {
		t.Errorf("%d distinct metrics, want %d", len(seen), stages+4)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s sent %d times", k, n)
		}
	}
}

func TestSplitBySize(t *testing.T) {
	// Long dimension values fill 512 KB before 500 data.
	p := New(Options{Environment: strings.Repeat("e", 1000), Service: strings.Repeat("s", 1000)})
	m := Metrics{StageViewers: map[string]int{}}
	for i := range 600 {
		m.StageViewers[fmt.Sprintf("%01000d", i)] = i
	}
	total := 0
	for _, b := range split(p.data(m, testNow())) {
		size := 0
		for _, d := range b {
			size += estimate(d)
		}
		if len(b) > maxDataPerCall || size > maxBytesPerCall {
			t.Errorf("batch of %d data, ~%d bytes, over the limits", len(b), size)
		}
		total += len(b)
	}
	if total != 604 {
		t.Errorf("%d data in batches, want 604", total)
	}
}

func TestSendRetriesThenSucceeds(t *testing.T) {
	f := cwfake.New(t)
	p, _ := newTest(t, f, Options{MaxRetries: 3})
	f.FailNext(2, 500, "InternalServiceFault")
	start := time.Now()
	if err := p.Send(t.Context(), Metrics{TotalViewers: 1}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	calls, requests, _ := f.Snapshot()
	if requests != 3 || len(calls) != 1 {
		t.Errorf("%d requests, %d accepted; want 3 and 1 (SDK retries must be off)", requests, len(calls))
	}
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Errorf("took %v, want the 10 ms + 20 ms backoff", waited)
	}
}

func TestSendGivesUp(t *testing.T) {
	f := cwfake.New(t)
	p, _ := newTest(t, f, Options{MaxRetries: 2})
	f.FailNext(-1, 503, "ServiceUnavailable")
	err := p.Send(t.Context(), Metrics{TotalViewers: 1})
	if err == nil || !strings.Contains(err.Error(), "attempt 3, giving up") {
		t.Fatalf("Send = %v, want giving up after attempt 3", err)
	}
	if _, requests, _ := f.Snapshot(); requests != 3 {
		t.Errorf("%d requests, want 1 + MaxRetries = 3", requests)
	}
}

func TestSendDoesNotRetryClientErrors(t *testing.T) {
	f := cwfake.New(t)
	p, _ := newTest(t, f, Options{})
	f.FailNext(-1, 400, "InvalidParameterValueException")
	if err := p.Send(t.Context(), Metrics{}); err == nil {
		t.Fatal("Send succeeded, want the validation error")
	}
	if _, requests, _ := f.Snapshot(); requests != 1 {
		t.Errorf("%d requests, want 1: a validation error fails every time", requests)
	}
	// Throttling is a 400 too, but worth retrying.
	f.FailNext(1, 400, "Throttling")
	if err := p.Send(t.Context(), Metrics{}); err != nil {
		t.Fatalf("Send after throttling: %v", err)
	}
}

func TestSendRespectsContext(t *testing.T) {
	f := cwfake.New(t)
	p, _ := newTest(t, f, Options{MaxRetries: 5})
	p.firstDelay = time.Hour
	f.FailNext(-1, 500, "InternalServiceFault")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Send(ctx, Metrics{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %v despite ctx", d)
	}
}

func TestObserve(t *testing.T) {
	f := cwfake.New(t)
	p, _ := newTest(t, f, Options{Source: func(context.Context) (Metrics, error) {
		return Metrics{TotalViewers: 9}, nil
	}})
	p.Observe(t.Context())
	calls, _, _ := f.Snapshot()
	if len(calls) != 1 {
		t.Fatalf("%d calls for one observation, want 1", len(calls))
	}
	if got := calls[0].Data[0]; got.Name != "TotalViewers" || got.Value != 9 {
		t.Errorf("first datum %s = %v, want TotalViewers = 9", got.Name, got.Value)
	}
}

func TestObserveGivesUpAfterRetries(t *testing.T) {
	f := cwfake.New(t)
	p, logs := newTest(t, f, Options{
		Interval:   time.Minute,
		MaxRetries: 2,
		Source: func(context.Context) (Metrics, error) {
			return Metrics{TotalViewers: 1}, nil
		},
	})
	f.FailNext(-1, 500, "InternalServiceFault")
	p.Observe(t.Context())
	if _, requests, _ := f.Snapshot(); requests != 3 {
		t.Errorf("%d requests for one observation, want 3 (2 retries)", requests)
	}
	out := logs.String()
	if !strings.Contains(out, "observation dropped") {
		t.Errorf("want the drop logged; logs:\n%s", out)
	}
	if strings.Contains(out, "SECRET") {
		t.Errorf("logs contain the secret key:\n%s", out)
	}
}

// An observation ends before the next tick even while CloudWatch hangs, so
// the loop that runs it is never held up and sends never pile up.
func TestObserveEndsBeforeTheNextTickWhileCloudWatchHangs(t *testing.T) {
	f := cwfake.New(t)
	f.SetHang(true)
	const interval = 500 * time.Millisecond
	p, logs := newTest(t, f, Options{
		Interval: interval,
		Source:   func(context.Context) (Metrics, error) { return Metrics{}, nil },
	})
	for range 3 {
		// Measured on the wall clock because the deadline under test is the
		// runtime's timer, and the fake CloudWatch is a real HTTP server
		// (so testing/synctest cannot run it). Without the 0.9 × interval
		// deadline an observation would take its four attempts of a whole
		// interval each; the margin up to two intervals is for a loaded
		// machine.
		start := time.Now()
		p.Observe(t.Context())
		if took := time.Since(start); took >= 2*interval {
			t.Errorf("an observation took %v while CloudWatch hung, want it given up at 0.9 × %v", took, interval)
		}
	}
	_, _, maxIn := f.Snapshot()
	if maxIn != 1 {
		t.Errorf("%d requests in flight at once, want 1: sends must not pile up", maxIn)
	}
	if !strings.Contains(logs.String(), "observation dropped") {
		t.Errorf("no drop logged:\n%s", logs.String())
	}
}

func TestObserveWithoutSource(t *testing.T) {
	f := cwfake.New(t)
	p, logs := newTest(t, f, Options{Interval: 10 * time.Millisecond})
	p.Observe(t.Context())
	if !strings.Contains(logs.String(), "no metrics source") {
		t.Errorf("missing error log:\n%s", logs.String())
	}
}

func TestObserveSourceError(t *testing.T) {
	f := cwfake.New(t)
	p, logs := newTest(t, f, Options{
		Source: func(context.Context) (Metrics, error) {
			return Metrics{}, errors.New("presence unavailable")
		},
	})
	p.Observe(t.Context())
	if !strings.Contains(logs.String(), "taking observation: presence unavailable") {
		t.Errorf("the failure not logged:\n%s", logs.String())
	}
	if _, requests, _ := f.Snapshot(); requests != 0 {
		t.Errorf("%d requests without an observation, want 0", requests)
	}
}
