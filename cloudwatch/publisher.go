package cloudwatch

import (
	"context"
	"fmt"
	"log/slog"
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
	// Interval is METRICS_INTERVAL, how often the caller runs Observe; it
	// bounds each observation and each attempt. Default 60 s.
	Interval time.Duration
	// Source takes one observation; Observe calls it. It is required by
	// Observe, not by Send.
	Source func(ctx context.Context) (Metrics, error)
	// Now stamps the metric data; default time.Now.
	Now func() time.Time
	// Logger receives failures; default slog.Default().
	Logger *slog.Logger
	// MaxRetries is how many times one failed call is retried; default 3,
	// negative means never.
	MaxRetries int
}

// Publisher sends observations to CloudWatch: Observe on the caller's timer,
// Send on demand.
// Its methods are safe for concurrent use.
type Publisher struct {
	o   Options
	log *slog.Logger

	// firstDelay and maxDelay bound the retry backoff (tests shorten them).
	firstDelay, maxDelay time.Duration
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

// Observe takes one observation from Source and sends it, logging rather
// than returning failures because nobody waits on a metrics loop. The
// caller runs it every Interval on the leader (cmd runs it in
// live.WhileLeader, the loop of every leader job). It gives up at 0.9 ×
// Interval, so a slow or failing CloudWatch never holds up the next tick
// and sends never pile up; should a tick be skipped all the same, it calls
// no Source, so the deltas it would have carried go with the next
// observation.
func (p *Publisher) Observe(parent context.Context) {
	if p.o.Source == nil {
		p.log.Error("cloudwatch: no metrics source; not sending metrics")
		return
	}
	// End before the next tick; the tenth kept back absorbs timer jitter.
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
