package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ivslive/ivslive"
)

// Config is what the operator tunes, plus knobs for tests.
type Config struct {
	Targets []Target
	// MaxAge bounds how long a job is retried (WEBHOOK_MAX_AGE, 24 h).
	MaxAge time.Duration
	// AllowPrivate lets targets be on loopback, private and other
	// non-public addresses (WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
	// UserAgent is sent with every request.
	UserAgent string

	// Backoff spaces the retries; zero means DefaultBackoff.
	Backoff Backoff
	// Lease is how long a claimed job stays with its claimer before
	// another instance may take it (a claimer that died). Zero means twice
	// the longest target timeout plus a second.
	Lease time.Duration
	// Poll is how often each target's queues are checked for jobs that
	// other instances queued or that fell due (1 s by default).
	Poll time.Duration
	// Buffer is how many handovers (Publish and Record calls) wait in
	// memory to be queued (65,536 by default); beyond, events are dropped
	// and counted.
	Buffer int
	// Wait bounds how long Record waits for the store (2 s by default).
	Wait time.Duration
	// Resolver resolves target names (tests); nil uses the system's.
	Resolver *net.Resolver
}

// Observer counts what the webhooks do, for metrics. Its methods must be
// cheap and must not block.
type Observer interface {
	// Attempted is called after every delivery attempt.
	Attempted(target string, outcome ivslive.WebhookOutcome, d time.Duration)
	// Dropped counts jobs given up without an attempt (a disabled target's
	// queue) or after one (too old, 410 Gone), by reason.
	Dropped(target, reason string, n int)
	// Lost counts events dropped before they were queued: the buffer was
	// full because the queue store was unreachable for long.
	Lost(n int)
}

type noObserver struct{}

func (noObserver) Attempted(string, ivslive.WebhookOutcome, time.Duration) {}
func (noObserver) Dropped(string, string, int)                             {}
func (noObserver) Lost(int)                                                {}

// Service queues events for the targets and delivers them. Record (or
// Publish, which does not wait) is called where events happen, on the
// instance where they happen, once per event; Run, on every instance,
// writes them to the store and delivers whatever is due, whichever
// instance queued it.
type Service struct {
	store Store
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
	obs   Observer

	targets []*target
	in      chan item
	lost    atomic.Int64
	lostLog atomic.Int64 // unix seconds of the last "lost" log line
}

// item is events on their way to the store, with the channel that is told
// when they are there (nil for Publish). An item without events is a
// Flush.
type item struct {
	events []ivslive.Event
	done   chan error
}

// target is a Target with its client and its dispatcher's wake-up.
type target struct {
	Target
	client *http.Client
	wake   chan struct{}
	// next is the Unix nanoseconds of the earliest retry this instance
	// scheduled, so the dispatcher wakes for it before the next poll.
	next atomic.Int64
}

var _ ivslive.EventPublisher = (*Service)(nil)

// New returns a Service over store. now and log may be nil (the real clock,
// no logs), obs too.
func New(store Store, cfg Config, now func() time.Time, log *slog.Logger, obs Observer) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if obs == nil {
		obs = noObserver{}
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 24 * time.Hour
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff = DefaultBackoff()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 1 << 16
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 2 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "ivslive-webhooks"
	}
	s := &Service{store: store, cfg: cfg, now: now, log: log, obs: obs, in: make(chan item, cfg.Buffer)}
	longest := time.Duration(0)
	for _, t := range cfg.Targets {
		if t.Timeout <= 0 {
			t.Timeout = 10 * time.Second
		}
		if t.MaxConns <= 0 {
			t.MaxConns = 16
		}
		longest = max(longest, t.Timeout)
		s.targets = append(s.targets, &target{Target: t, client: newClient(t, cfg.AllowPrivate, cfg.Resolver), wake: make(chan struct{}, 1)})
	}
	if s.cfg.Lease <= 0 {
		s.cfg.Lease = 2*longest + time.Second
	}
	return s
}

// Publish implements ivslive.EventPublisher: it hands the event to the
// writer and returns at once. When the buffer is full (the store has been
// unreachable for a while) the event is dropped, counted and logged.
func (s *Service) Publish(e ivslive.Event) {
	select {
	case s.in <- item{events: []ivslive.Event{e}}:
	default:
		s.dropped(1)
	}
}

// Record hands events to the writer and waits until they are in the store,
// for at most Config.Wait (or until ctx ends): one store write, shared by
// every caller waiting at that moment. A caller that stops waiting does not
// lose its events, which stay buffered; only a buffer full for the whole
// wait drops them (counted and logged).
func (s *Service) Record(ctx context.Context, events []ivslive.Event) error {
	done := make(chan error, 1)
	it := item{events: events, done: done}
	timer := time.NewTimer(s.cfg.Wait)
	defer timer.Stop()
	select {
	case s.in <- it:
	default:
		select { // full: wait for room, but not for the caller's context
		case s.in <- it:
		case <-timer.C:
			s.dropped(len(events))
			return fmt.Errorf("webhook buffer full for %s: %d events dropped", s.cfg.Wait, len(events))
		}
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("the webhook queue did not answer within %s", s.cfg.Wait)
	}
}

func (s *Service) dropped(n int) {
	s.lost.Add(int64(n))
	s.obs.Lost(n)
	if now := time.Now().Unix(); s.lostLog.Swap(now) != now {
		s.log.Error("webhook buffer full: events dropped before they were queued", "lost", s.lost.Load())
	}
}

// Lost returns how many events were dropped because the buffer was full.
func (s *Service) Lost() int64 { return s.lost.Load() }

// Flush waits until every event handed over before it is in the store.
func (s *Service) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case s.in <- item{done: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run writes published events to the store and delivers due jobs until
// ctx is done. Then it writes what is still buffered (within a few
// seconds), and gives back the jobs in flight so that another instance, or
// this one after a restart, takes them at once.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range s.targets {
		wg.Go(func() { s.dispatch(ctx, t) })
	}
	s.write(ctx)
	wg.Wait()
}

// writeBatch bounds the events one store call takes.
const writeBatch = 512

// batch is buffered events encoded for the store: ids are given once, so
// a write retried after an unclear failure repeats the same ids, which
// receivers can drop.
type batch struct {
	events  []ivslive.WebhookEvent
	jobs    []ivslive.WebhookJob
	flushes []chan error
	wake    map[*target]bool
}

// write moves buffered events to the store in batches: one durable write
// for everything that queued up during the previous one.
func (s *Service) write(ctx context.Context) {
	for {
		select {
		case it := <-s.in:
			b := s.take(it)
			if s.store1(ctx, b) != nil { // ctx ended while retrying
				s.drain(b)
				return
			}
		case <-ctx.Done():
			s.drain(nil)
			return
		}
	}
}

// take encodes first and whatever else is buffered, up to about
// writeBatch events, without waiting.
func (s *Service) take(first item) *batch {
	b := &batch{wake: map[*target]bool{}}
	now := s.now()
	add := func(it item) {
		if it.done != nil {
			b.flushes = append(b.flushes, it.done)
		}
		for _, e := range it.events {
			ev, ok, err := Encode(e, NewID(now))
			if err != nil {
				s.log.Error("webhook event not encodable; dropped", "type", e.Type, "err", err)
				continue
			}
			if !ok {
				continue
			}
			b.events = append(b.events, ev)
			for _, t := range s.targets {
				if t.Wants(ev.Type) {
					b.jobs = append(b.jobs, ivslive.WebhookJob{Event: ev, Target: t.Name, EnqueuedAt: now})
					b.wake[t] = true
				}
			}
		}
	}
	add(first)
	for len(b.events) < writeBatch {
		select {
		case it := <-s.in:
			add(it)
		default:
			return b
		}
	}
	return b
}

// drain writes pending and what is buffered at shutdown, for at most five
// seconds.
func (s *Service) drain(pending *batch) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for b := pending; ; {
		if b != nil {
			if err := s.store1(ctx, b); err != nil {
				s.log.Error("webhook events not queued at shutdown", "events", len(b.events), "err", err)
				b.answer(err)
				return
			}
		}
		select {
		case it := <-s.in:
			b = s.take(it)
		default:
			return
		}
	}
}

// store1 writes one batch, retrying until it succeeds or ctx ends. On
// success it answers the batch's flushes; on failure (ctx ended) the
// caller still owns them.
func (s *Service) store1(ctx context.Context, b *batch) error {
	for wait := time.Duration(0); len(b.events) > 0; {
		err := s.store.Enqueue(ctx, b.events, b.jobs)
		if err == nil {
			break
		}
		wait = min(max(2*wait, 50*time.Millisecond), 5*time.Second)
		s.log.Error("could not queue webhook events; retrying (they wait in memory)", "events", len(b.events), "retry_in", wait, "err", err)
		if !sleep(ctx, wait) {
			return err
		}
	}
	b.answer(nil)
	for t := range b.wake {
		t.poke()
	}
	return nil
}

// answer tells the batch's flushes how their wait ended.
func (b *batch) answer(err error) {
	for _, done := range b.flushes {
		done <- err
	}
}

// poke wakes the target's dispatcher without blocking.
func (t *target) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
