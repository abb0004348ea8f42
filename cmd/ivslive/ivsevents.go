package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/sqs"
)

// startIVSEvents adds this instance's consumer of IVS's events to the
// workers: every instance consumes, and the event log (shared in Redis)
// applies each event once. In emulator mode the queue defaults to the
// emulator's own, so the path AWS takes runs in every mode.
func (a *app) startIVSEvents(ctx context.Context, events ivslive.EventLog) error {
	queueURL, creds := a.cfg.IVSEventsQueueURL, awsCredentials(a.cfg)
	if a.cfg.Backend() == "emulator" {
		if queueURL == "" {
			queueURL = a.ivsEndpoint + "/sqs/" + a.cfg.AWSAccountID + "/" + emulator.EventQueueName
		}
		// The emulator ignores credentials, as in openIVS.
		creds = credentials.NewStaticCredentialsProvider("emulator", "emulator", "")
	}
	if queueURL == "" {
		a.log.Warn("IVS_EVENTS_QUEUE_URL is not set: ivslive does not receive IVS's events (see deploy/ivs-events.yaml)")
		return nil
	}
	client, err := sqs.NewClient(ctx, sqs.Options{QueueURL: queueURL, Region: a.cfg.AWSRegion, Credentials: creds})
	if err != nil {
		return fmt.Errorf("IVS_EVENTS_QUEUE_URL: %w", err)
	}
	c := &sqs.Consumer{Client: client, QueueURL: queueURL, Handler: a.live, Events: events, Observer: a.metrics,
		Log: a.log.With("part", "ivs-events"), Owner: instanceID()}
	a.workers = append(a.workers, c.Run)
	a.log.Info("consuming IVS events", "queue", queueURL)
	return nil
}
