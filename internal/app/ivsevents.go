package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/sqs"
)

// startIVSEvents adds this instance's consumer of IVS's events to the
// workers: every instance consumes, and the event log (shared in Redis)
// applies each event once. In emulator mode the queue defaults to the
// emulator's own, so the path AWS takes runs in every mode.
func (a *App) startIVSEvents(ctx context.Context, events ivslive.EventLog) error {
	queueURL, creds := a.cfg.IVSEventsQueueURL, awsCredentials(a.cfg)
	if a.cfg.Backend() == "emulator" {
		if queueURL == "" {
			queueURL = a.ivsEndpoint + "/sqs/" + a.cfg.AWSAccountID + "/" + emulator.EventQueueName
		}
		// The emulator ignores credentials, as in openIVS.
		creds = credentials.NewStaticCredentialsProvider("emulator", "emulator", "")
	}
	if queueURL == "" {
		a.eventsCheck = ivshttp.HealthCheck{Name: "ivsEvents", Mode: "off", Probe: func(context.Context) (map[string]any, error) { return nil, nil }}
		a.log.Warn("IVS_EVENTS_QUEUE_URL is not set: ivslive does not receive IVS's events (see deploy/ivs-events.yaml)")
		return nil
	}
	client, err := sqs.NewClient(ctx, sqs.Options{QueueURL: queueURL, Region: a.cfg.AWSRegion, Credentials: creds})
	if err != nil {
		return fmt.Errorf("IVS_EVENTS_QUEUE_URL: %w", err)
	}
	if a.opts.EventLog != nil {
		events = a.opts.EventLog
	}
	c := &sqs.Consumer{Client: client, QueueURL: queueURL, Handler: a.Live, Events: events, Observer: a.metrics,
		Log: a.log.With("part", "ivs-events"), Owner: instanceID()}
	if a.opts.IVSEvents != nil {
		a.opts.IVSEvents(c)
	}
	a.Consumer = c
	a.workers = append(a.workers, c.Run)
	a.eventsCheck = eventsCheck(c.Status, a.cfg.Backend(), a.now)
	a.log.Info("consuming IVS events", "queue", queueURL)
	return nil
}

// eventsFailingFor is how long receives may fail before /api/health shows
// the events degraded: longer than a few backoffs, so a blip is not news.
const eventsFailingFor = time.Minute

// eventsCheck reports the consumer in /api/health: degraded (never down:
// the reconciler and the API go on without events) while receives have
// failed for eventsFailingFor.
func eventsCheck(status func() sqs.Status, mode string, now func() time.Time) ivshttp.HealthCheck {
	return ivshttp.HealthCheck{Name: "ivsEvents", Mode: mode, Probe: func(context.Context) (map[string]any, error) {
		st := status()
		info := map[string]any{}
		if !st.LastReceive.IsZero() {
			info["lastReceive"] = st.LastReceive.UTC().Format(time.RFC3339)
		}
		if !st.FailingSince.IsZero() {
			info["failingSince"] = st.FailingSince.UTC().Format(time.RFC3339)
			if failing := now().Sub(st.FailingSince); failing > eventsFailingFor {
				return info, ivshttp.Degraded(ivslive.Errorf(ivslive.EUNAVAILABLE,
					"cannot receive IVS events from IVS_EVENTS_QUEUE_URL for %s", failing.Round(time.Second)))
			}
		}
		return info, nil
	}}
}
