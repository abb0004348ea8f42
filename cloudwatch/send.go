package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Metrics is one observation of the cluster.
type Metrics struct {
	// TotalViewers is the number of viewers seated on all stages.
	TotalViewers int
	// PlaybackViewers is the number watching the channel's playback URL,
	// sent as PlaybackViewers when Playback is on (a server without it
	// sends the Node server's metrics only).
	PlaybackViewers int
	Playback        bool
	// ActiveStages is the number of stages in the pool.
	ActiveStages int
	// StageViewers is the number of viewers per stage, by stage ARN.
	StageViewers map[string]int
	// TokensIssued is the number of tokens issued since the previous
	// observation (the caller computes the delta).
	TokensIssued int64
	// APIErrors is the number of API errors since the previous observation;
	// it is sent as ApiErrors.
	APIErrors int64
}

// Metric and dimension names, as the Node server spelled them: existing
// dashboards and alarms select on these exact strings.
const (
	metricTotalViewers = "TotalViewers"
	metricPlayback     = "PlaybackViewers"
	metricActiveStages = "ActiveStages"
	metricTokensIssued = "TokensIssued"
	metricAPIErrors    = "ApiErrors"
	metricStageViewers = "StageViewers"

	dimEnvironment = "Environment"
	dimService     = "Service"
	dimStageARN    = "StageArn"
)

// PutMetricData accepts 1,000 metric data and 1 MB per request; staying at
// half of each leaves room for encoding overhead the estimate does not see.
const (
	maxDataPerCall  = 500
	maxBytesPerCall = 512 << 10
)

// Send sends m as one observation stamped with Options.Now, in as many
// PutMetricData calls as the limits require. A failed call is retried up to
// MaxRetries times with exponential backoff, unless the error cannot succeed
// on retry (a validation or permission error); Send then returns the error
// and the rest of the observation is not sent. Each attempt is limited to
// Interval, and ctx bounds the whole send, retry waits included.
func (p *Publisher) Send(ctx context.Context, m Metrics) error {
	if p.o.Client == nil {
		return errors.New("cloudwatch: no CloudWatch client configured")
	}
	batches := split(p.data(m, p.o.Now()))
	for i, b := range batches {
		if err := p.put(ctx, b); err != nil {
			return fmt.Errorf("cloudwatch: PutMetricData call %d of %d (%d metric data): %w",
				i+1, len(batches), len(b), err)
		}
	}
	return nil
}

// data turns m into metric data: the four totals first, then one
// StageViewers per stage in ARN order, so batches are deterministic.
func (p *Publisher) data(m Metrics, at time.Time) []types.MetricDatum {
	base := []types.Dimension{
		{Name: aws.String(dimEnvironment), Value: aws.String(p.o.Environment)},
		{Name: aws.String(dimService), Value: aws.String(p.o.Service)},
	}
	datum := func(name string, v float64, dims []types.Dimension) types.MetricDatum {
		return types.MetricDatum{
			MetricName: aws.String(name),
			Value:      aws.Float64(v),
			Unit:       types.StandardUnitCount,
			Timestamp:  aws.Time(at),
			Dimensions: dims,
		}
	}
	out := make([]types.MetricDatum, 0, 5+len(m.StageViewers))
	out = append(out,
		datum(metricTotalViewers, float64(m.TotalViewers), base),
		datum(metricActiveStages, float64(m.ActiveStages), base),
		datum(metricTokensIssued, float64(m.TokensIssued), base),
		datum(metricAPIErrors, float64(m.APIErrors), base),
	)
	if m.Playback {
		out = append(out, datum(metricPlayback, float64(m.PlaybackViewers), base))
	}
	for _, arn := range slices.Sorted(maps.Keys(m.StageViewers)) {
		if arn == "" {
			// CloudWatch rejects an empty dimension value, and with it
			// the whole call.
			continue
		}
		dims := append(slices.Clip(base), types.Dimension{Name: aws.String(dimStageARN), Value: aws.String(arn)})
		out = append(out, datum(metricStageViewers, float64(m.StageViewers[arn]), dims))
	}
	return out
}

// split cuts data into batches within maxDataPerCall and maxBytesPerCall.
func split(data []types.MetricDatum) [][]types.MetricDatum {
	var out [][]types.MetricDatum
	start, size := 0, 0
	for i, d := range data {
		n := estimate(d)
		if i > start && (i-start == maxDataPerCall || size+n > maxBytesPerCall) {
			out = append(out, data[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(data) {
		out = append(out, data[start:])
	}
	return out
}

// estimate is an upper bound of a datum's encoded size: its strings plus a
// generous allowance for keys, the value and the timestamp.
func estimate(d types.MetricDatum) int {
	n := 128 + len(aws.ToString(d.MetricName))
	for _, dim := range d.Dimensions {
		n += 32 + len(aws.ToString(dim.Name)) + len(aws.ToString(dim.Value))
	}
	return n
}

// put sends one batch, retrying failures that may pass on a later attempt.
func (p *Publisher) put(ctx context.Context, data []types.MetricDatum) error {
	in := &cwsdk.PutMetricDataInput{Namespace: aws.String(p.o.Namespace), MetricData: data}
	delay := p.firstDelay
	for attempt := 1; ; attempt++ {
		err := p.attempt(ctx, in)
		if err == nil {
			return nil
		}
		if attempt > p.o.MaxRetries || !retryable(err) || ctx.Err() != nil {
			return fmt.Errorf("attempt %d, giving up: %w", attempt, err)
		}
		p.log.Debug("cloudwatch: PutMetricData failed; retrying",
			"attempt", attempt, "retry_in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("attempt %d, no time left to retry (%w): %w", attempt, ctx.Err(), err)
		case <-t.C:
		}
		// No jitter: a single leader sends, so there is no herd to spread.
		delay = min(2*delay, p.maxDelay)
	}
}

// attempt makes one PutMetricData call, bounded by Interval so that a hung
// connection cannot hold a direct Send forever.
func (p *Publisher) attempt(ctx context.Context, in *cwsdk.PutMetricDataInput) error {
	ctx, cancel := context.WithTimeout(ctx, p.o.Interval)
	defer cancel()
	_, err := p.o.Client.PutMetricData(ctx, in, func(o *cwsdk.Options) {
		// The SDK would retry 3 times inside every attempt of ours.
		o.Retryer = aws.NopRetryer{}
	})
	return err
}

// retryable reports whether err may pass on retry: throttling, server
// errors and transport failures may; other client errors (validation,
// credentials, permissions) fail the same way every time.
func retryable(err error) bool {
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return true
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		s := status.HTTPStatusCode()
		if s >= 400 && s < 500 {
			return s == http.StatusRequestTimeout || s == http.StatusTooManyRequests
		}
	}
	return true
}
