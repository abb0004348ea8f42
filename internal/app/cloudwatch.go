package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/ivslive/ivslive/cloudwatch"
	"github.com/ivslive/ivslive/live"
)

// counterInterval is how often each instance reports its token and error
// counts to the leader over the event bus: often enough that every
// CloudWatch send includes them.
func counterInterval(send time.Duration) time.Duration {
	return min(10*time.Second, max(send/4, 250*time.Millisecond))
}

// startCloudWatch sends the live numbers to CloudWatch from the leader.
// Token and error counts are cluster-wide: every instance reports its own
// on the bus, and the leader's tally adds them up.
func (a *App) startCloudWatch(ctx context.Context, leader *live.Leader, bus *live.Bus) error {
	if !a.cfg.CloudWatch() {
		return nil
	}
	loads := []func(*config.LoadOptions) error{config.WithRegion(a.cfg.AWSRegion)}
	if creds := awsCredentials(a.cfg); creds != nil {
		loads = append(loads, config.WithCredentialsProvider(creds))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return fmt.Errorf("CloudWatch: load AWS config: %w", err)
	}
	client := cwsdk.NewFromConfig(awsCfg, func(o *cwsdk.Options) {
		if a.cfg.CloudWatchEndpoint != "" {
			o.BaseEndpoint = aws.String(a.cfg.CloudWatchEndpoint)
		}
	})
	tally := &live.Tally{}
	onChange := leader.OnChange
	leader.OnChange = func(leading bool) {
		if onChange != nil {
			onChange(leading)
		}
		if leading {
			tally.Take() // counts from before this term were sent by the previous leader
		}
	}
	reporter := &live.CounterReporter{Events: a.Live.Events, Interval: counterInterval(a.cfg.MetricsInterval), Origin: instanceID(), Now: a.Live.Now,
		Read: func() map[string]int64 {
			tokens, errs := a.metrics.Totals()
			return map[string]int64{live.CounterTokensIssued: tokens, live.CounterAPIErrors: errs}
		}}
	pub := cloudwatch.New(cloudwatch.Options{
		Client: client, Namespace: a.cfg.CloudWatchNamespace, Environment: orDefault(a.cfg.NodeEnv, "development"),
		Service: "ivslive", Interval: a.cfg.MetricsInterval, Logger: a.log, Now: a.Live.Now,
		Source: func(ctx context.Context) (cloudwatch.Metrics, error) {
			st, err := a.Live.Stats(ctx)
			if err != nil {
				return cloudwatch.Metrics{}, err
			}
			counts := tally.Take()
			m := cloudwatch.Metrics{TotalViewers: st.TotalViewers, PlaybackViewers: st.PlaybackViewers, Playback: a.Live.Playback != nil, ActiveStages: len(st.Stages) - st.DrainingStages,
				StageViewers: map[string]int{}, TokensIssued: counts[live.CounterTokensIssued], APIErrors: counts[live.CounterAPIErrors]}
			for _, v := range st.Stages {
				m.StageViewers[v.ARN] = v.Viewers
			}
			return m, nil
		},
	})
	send := func(ctx context.Context) { live.WhileLeader(ctx, a.cfg.MetricsInterval, leader, nil, pub.Observe) }
	a.workers = append(a.workers, func(ctx context.Context) { tally.Run(ctx, bus) }, reporter.Run, send)
	a.log.Info("CloudWatch metrics on", "namespace", a.cfg.CloudWatchNamespace, "interval", a.cfg.MetricsInterval)
	return nil
}
