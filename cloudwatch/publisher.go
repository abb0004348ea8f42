package cloudwatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// Defaults applied by New to the zero values of Options.
const (
	defaultNamespace   = "IVS/Production"
	defaultService     = "ivslive"
	defaultEnvironment = "development"
	defaultInterval    = 60 * time.Second
	defaultMaxRetries  = 3
)

// Retry delays: the first retry waits firstBackoff, each further one twice as
// long, capped so a long outage does not hold one observation forever.
const (
	firstBackoff = time.Second
	maxBackoff   = 8 * time.Second
)

// Options configures a Publisher. Zero values take the defaults noted on
// each field.
type Options struct {
	// Client sends the PutMetricData calls. Its own retryer is bypassed so
	// that MaxRetries is the only retry policy.
	Client *cwsdk.Client
	// Namespace is CLOUDWATCH_NAMESPACE; default "IVS/Production".
	Namespace string
	// Environment is the value of the Environment dimension (NODE_ENV);
	// default "development", because CloudWatch rejects an empty
	// dimension value and NODE_ENV is often unset.
	Environment string
	// Service is the value of the Service dimension; default "ivslive".
	Service string
	// Interval is METRICS_INTERVAL, how often Run sends; default 60 s.
	Interval time.Duration
	// Source takes one observation; Run calls it once per tick, on the
	// leader only. It is required by Run, not by Send.
	Source func(ctx context.Context) (Metrics, error)
	// IsLeader reports whether this instance should send; nil means always
	// (a single instance).
	IsLeader func() bool
	// Now stamps the metric data; default time.Now.
	Now func() time.Time
	// Logger receives failures; default slog.Default().
	Logger *slog.Logger
	// MaxRetries is how many times one failed call is retried; default 3,
	// negative means never.
	MaxRetries int
}

// Publisher sends observations to CloudWatch: Run on a timer, Send on demand.
// Its methods are safe for concurrent use.
type Publisher struct {
	o   Options
	log *slog.Logger

	// firstDelay and maxDelay bound the retry backoff (tests shorten them).
	firstDelay, maxDelay time.Duration

	// busy is set while an observation is being taken or sent, so that a
	// slow CloudWatch makes Run skip ticks instead of piling up sends.
	busy atomic.Bool
}

// New returns a Publisher for o, with defaults filled in.
func New(o Options) *Publisher {
	if o.Namespace == "" {
		o.Namespace = defaultNamespace
	}
	if o.Environment == "" {
		o.Environment = defaultEnvironment
	}
	if o.Service == "" {
		o.Service = defaultService
	}
	if o.Interval <= 0 {
		o.Interval = defaultInterval
	}
	if o.IsLeader == nil {
		o.IsLeader = func() bool { return true }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = defaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	return &Publisher{o: o, log: o.Logger, firstDelay: firstBackoff, maxDelay: maxBackoff}
}

// Run sends one observation every Interval while this instance is the leader,
// until ctx is done; it then waits for the send in flight, which ctx cancels.
//
// Each observation is taken and sent in its own goroutine under a deadline
// just short of Interval, so a slow or failing CloudWatch never delays the
// ticker: a tick that finds the previous observation still in flight is
// skipped, and Source is not called for it, so the deltas it would have
// carried are reported by the next observation instead of being lost.
func (p *Publisher) Run(ctx context.Context) {
	if p.o.Source == nil {
		p.log.Error("cloudwatch: no metrics source; not sending metrics")
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(p.o.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !p.o.IsLeader() {
			continue
		}
		if !p.busy.CompareAndSwap(false, true) {
			p.log.Warn("cloudwatch: previous observation still in flight; skipping this tick",
				"interval", p.o.Interval)
			continue
		}
		wg.Go(func() {
			defer p.busy.Store(false)
			p.observe(ctx)
		})
	}
}

// observe takes one observation and sends it, logging rather than returning
// failures because nobody waits on Run's goroutine.
func (p *Publisher) observe(parent context.Context) {
	// End before the next tick so that at most one tick is skipped; the
	// tenth kept back absorbs timer jitter.
	ctx, cancel := context.WithTimeout(parent, p.o.Interval*9/10)
	defer cancel()
	m, err := p.o.Source(ctx)
	if err != nil {
		err = fmt.Errorf("cloudwatch: taking observation: %w", err)
	} else {
		err = p.Send(ctx, m)
	}
	switch {
	case err == nil:
	case parent.Err() != nil:
		// Shutting down: the cut-short send is expected, not a failure.
		p.log.Debug("cloudwatch: observation abandoned at shutdown", "err", err)
	default:
		p.log.Warn("cloudwatch: observation dropped", "err", err,
			"stages", len(m.StageViewers))
	}
}
