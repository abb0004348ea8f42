package sqs_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/sqs"
)

// env is an emulator behind a loopback server, with an IVS client and the
// URL of its event queue.
type env struct {
	em       *emulator.Emulator
	srv      *httptest.Server
	ivs      *ivsrealtime.Client
	queueURL string
	log      *slog.Logger
}

func newEnv(t testing.TB, opts emulator.Options) *env {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("IVSLIVE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts.Logger = log
	em, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	t.Cleanup(func() { srv.Close(); em.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	client := ivsrealtime.NewFromConfig(cfg, func(o *ivsrealtime.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	return &env{em: em, srv: srv, ivs: client, queueURL: srv.URL + "/sqs/123456789012/" + emulator.EventQueueName, log: log}
}

// stage creates a stage and returns its ARN.
func (e *env) stage(t testing.TB, name string) string {
	t.Helper()
	out, err := e.ivs.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Stage.Arn)
}

// client returns the real SQS client, made as ivslive makes it from the
// queue URL.
func (e *env) client(t testing.TB) *awssqs.Client {
	t.Helper()
	c, err := sqs.NewClient(t.Context(), sqs.Options{QueueURL: e.queueURL, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// consumer returns a consumer of the queue into h, tuned by tune; run
// starts it until the test ends.
func (e *env) consumer(t testing.TB, h ivslive.IVSEventHandler, events ivslive.EventLog, obs *observer, tune func(*sqs.Consumer)) *sqs.Consumer {
	t.Helper()
	if events == nil {
		events = memory.NewEventLog(nil)
	}
	c := &sqs.Consumer{Client: e.client(t), QueueURL: e.queueURL, Handler: h, Events: events, Log: e.log, WaitTime: 2 * time.Second}
	if obs != nil {
		c.Observer = obs
	}
	if tune != nil {
		tune(c)
	}
	return c
}

// run runs c until the test ends.
func run(t *testing.T, c *sqs.Consumer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// recorder is a handler that records the events it applied; fail, when
// set, decides whether an apply fails (before it is recorded).
type recorder struct {
	mu      sync.Mutex
	applied []ivslive.IVSEvent
	calls   int
	fail    func(call int, ev ivslive.IVSEvent) error
}

func (r *recorder) ApplyIVSEvent(_ context.Context, ev ivslive.IVSEvent) error {
	r.mu.Lock()
	r.calls++
	call, fail := r.calls, r.fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(call, ev); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = append(r.applied, ev)
	return nil
}

// events returns the events applied so far.
func (r *recorder) events() []ivslive.IVSEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ivslive.IVSEvent(nil), r.applied...)
}

// byParticipant returns how many times an event of each participant was
// applied.
func (r *recorder) byParticipant() map[string]int {
	n := map[string]int{}
	for _, ev := range r.events() {
		n[ev.ParticipantID]++
	}
	return n
}

// observer counts what consumers report.
type observer struct {
	mu                                      sync.Mutex
	received, applied, duplicates, deferred int
	dropped, errors                         map[string]int
}

func newObserver() *observer {
	return &observer{dropped: map[string]int{}, errors: map[string]int{}}
}

func (o *observer) IVSEventReceived()         { o.mu.Lock(); o.received++; o.mu.Unlock() }
func (o *observer) IVSEventApplied(string)    { o.mu.Lock(); o.applied++; o.mu.Unlock() }
func (o *observer) IVSEventDuplicate()        { o.mu.Lock(); o.duplicates++; o.mu.Unlock() }
func (o *observer) IVSEventDeferred()         { o.mu.Lock(); o.deferred++; o.mu.Unlock() }
func (o *observer) IVSEventDropped(r string)  { o.mu.Lock(); o.dropped[r]++; o.mu.Unlock() }
func (o *observer) IVSEventError(step string) { o.mu.Lock(); o.errors[step]++; o.mu.Unlock() }

// get reads the counters under the lock.
func (o *observer) get(f func(o *observer) int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return f(o)
}

// settled waits until the queue holds nothing and every message received
// was handled one way or another.
func (e *env) settled(t *testing.T, o *observer) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "the queue emptied and every message handled", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		handled := o.applied + o.duplicates + o.deferred + o.errors["claim"] + o.errors["apply"]
		for _, n := range o.dropped {
			handled += n
		}
		return handled == o.received && e.em.EventQueueStats().Queued == 0
	})
}

// emptied waits until the queue holds nothing.
func (e *env) emptied(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "the queue emptied", func() bool { return e.em.EventQueueStats().Queued == 0 })
}
