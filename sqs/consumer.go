package sqs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ivslive/ivslive"
)

// Consumer defaults.
const (
	DefaultWaitTime       = 20 * time.Second // SQS's longest long poll: fewest empty receives
	DefaultMaxMessages    = 10               // SQS's largest batch
	DefaultMaxReceives    = 5
	DefaultClaimTTL       = 30 * time.Second
	DefaultAppliedTTL     = 24 * time.Hour
	DefaultHandlerTimeout = 10 * time.Second
	minBackoff            = 200 * time.Millisecond
	maxBackoff            = 30 * time.Second
)

// Reasons a message is deleted without being applied (Observer.Dropped).
const (
	DropInvalid = "invalid" // not an event: not JSON, members missing or malformed
	DropIgnored = "ignored" // another source, detail type or event name
	DropPoison  = "poison"  // failed MaxReceives times
)

// Observer counts what the consumer does (metrics.Metrics implements it).
type Observer interface {
	// IVSEventReceived counts a message received from the queue.
	IVSEventReceived()
	// IVSEventApplied counts an event the handler applied, by name.
	IVSEventApplied(name string)
	// IVSEventDuplicate counts an event applied before (deleted).
	IVSEventDuplicate()
	// IVSEventDeferred counts an event left for redelivery because
	// another consumer was applying it.
	IVSEventDeferred()
	// IVSEventDropped counts a message deleted without being applied.
	IVSEventDropped(reason string)
	// IVSEventError counts a failure, by step: receive, claim, apply,
	// finish, delete.
	IVSEventError(step string)
}

// Consumer receives IVS events from the queue and applies them through
// Handler, each once: it claims the event id in Events before applying,
// marks it applied after, and deletes the message only once the handler
// returned nil. A handler error leaves the message for redelivery after its
// visibility timeout, without holding up the other messages; a message
// received more than MaxReceives times is deleted and counted as poison (in
// AWS, a redrive policy with the same maxReceiveCount moves it to a
// dead-letter queue first, keeping its body). A body that is not a usable
// event, or an event the handler refuses with VALIDATION_ERROR, is deleted
// and counted at once.
type Consumer struct {
	Client   *awssqs.Client
	QueueURL string
	Handler  ivslive.IVSEventHandler
	Events   ivslive.EventLog
	Observer Observer // optional
	Log      *slog.Logger
	// Owner names this consumer in its claims; default a random id.
	Owner string
	// WaitTime is the long poll (default 20 s), MaxMessages the batch
	// (default 10).
	WaitTime    time.Duration
	MaxMessages int
	// VisibilityTimeout hides a received message from the other consumers
	// (whole seconds); 0 keeps the queue's own (30 s by default).
	VisibilityTimeout time.Duration
	// MaxReceives is how many times a message may fail before it is
	// dropped (default 5).
	MaxReceives int
	// ClaimTTL bounds a claim whose consumer died (default 30 s);
	// HandlerTimeout bounds one apply (default 10 s, below ClaimTTL).
	ClaimTTL, HandlerTimeout time.Duration
	// AppliedTTL is how long an applied event's id is remembered to drop
	// its duplicates (default 24 h).
	AppliedTTL time.Duration

	status status
}

func (c *Consumer) defaults() {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.Owner = hex.EncodeToString(b[:])
	}
	if c.WaitTime <= 0 {
		c.WaitTime = DefaultWaitTime
	}
	if c.MaxMessages <= 0 {
		c.MaxMessages = DefaultMaxMessages
	}
	if c.MaxReceives <= 0 {
		c.MaxReceives = DefaultMaxReceives
	}
	if c.ClaimTTL <= 0 {
		c.ClaimTTL = DefaultClaimTTL
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = DefaultHandlerTimeout
	}
	if c.AppliedTTL <= 0 {
		c.AppliedTTL = DefaultAppliedTTL
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
}

// Run consumes until ctx ends. The event being applied then is finished
// and its message deleted; the rest of the batch is made visible again at
// once for the other instances. Errors are logged and counted, and retried
// with a backoff that doubles up to 30 s: a queue that is down or refuses
// this instance never makes it spin.
func (c *Consumer) Run(ctx context.Context) {
	c.defaults()
	in := &awssqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(c.QueueURL),
		MaxNumberOfMessages:         int32(c.MaxMessages),
		WaitTimeSeconds:             int32(c.WaitTime / time.Second),
		VisibilityTimeout:           int32(c.VisibilityTimeout / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	}
	backoff := minBackoff
	for ctx.Err() == nil {
		start := time.Now()
		out, err := c.Client.ReceiveMessage(ctx, in)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			c.status.failed(time.Now(), err)
			c.Observer.IVSEventError("receive")
			c.Log.Warn("ivs events: receive failed; retrying", "queue", c.QueueURL, "in", backoff, "err", err)
			if !pause(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		c.status.received(time.Now())
		if len(out.Messages) == 0 && time.Since(start) < c.WaitTime/2 {
			// A long poll that answers empty at once is not waiting (a
			// queue being shut down): do not spin on it.
			if !pause(ctx, minBackoff) {
				return
			}
		}
		backoff = minBackoff
		c.handleBatch(ctx, out.Messages)
	}
}

// pause waits d, or less when ctx ends; false then.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handleBatch handles the messages in the order received. Once ctx ends,
// the ones not yet started are handed back to the queue.
func (c *Consumer) handleBatch(ctx context.Context, msgs []types.Message) {
	for i, m := range msgs {
		if ctx.Err() != nil {
			c.handBack(msgs[i:])
			return
		}
		c.Observer.IVSEventReceived()
		if c.handle(ctx, m) {
			c.delete(m)
		}
	}
}

// handle applies one message and reports whether to delete it.
func (c *Consumer) handle(ctx context.Context, m types.Message) bool {
	id := aws.ToString(m.MessageId)
	ev, err := parseEvent(aws.ToString(m.Body))
	switch {
	case errors.Is(err, errIgnored):
		c.Observer.IVSEventDropped(DropIgnored)
		c.Log.Debug("ivs events: ignoring a message", "messageId", id, "why", err)
		return true
	case err != nil:
		c.Observer.IVSEventDropped(DropInvalid)
		c.Log.Warn("ivs events: dropping a message that is not a usable IVS event", "messageId", id, "err", err)
		return true
	}
	if n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); n > c.MaxReceives {
		c.Observer.IVSEventDropped(DropPoison)
		c.Log.Error("ivs events: dropping an event that failed too often", "messageId", id, "event", ev.ID, "name", ev.Name,
			"stage", ev.StageARN, "participant", ev.ParticipantID, "receives", n)
		return true
	}
	// The event log and the handler finish their step even when ctx ends:
	// stopping between an apply and its mark would apply it again.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.HandlerTimeout)
	defer cancel()
	claim, err := c.Events.ClaimEvent(work, ev.ID, c.Owner, c.ClaimTTL)
	if err != nil {
		c.Observer.IVSEventError("claim")
		c.Log.Warn("ivs events: cannot claim an event; leaving it for redelivery", "event", ev.ID, "err", err)
		return false
	}
	switch claim {
	case ivslive.EventApplied:
		c.Observer.IVSEventDuplicate()
		return true
	case ivslive.EventBusy:
		// Another instance applies it; if it fails, the redelivery is ours.
		c.Observer.IVSEventDeferred()
		c.Log.Debug("ivs events: another consumer is applying this event", "event", ev.ID)
		return false
	}
	return c.apply(work, ev)
}

// apply runs the handler on a claimed event and reports whether to delete
// its message.
func (c *Consumer) apply(ctx context.Context, ev ivslive.IVSEvent) bool {
	err := c.Handler.ApplyIVSEvent(ctx, ev)
	switch {
	case ivslive.ErrorCode(err) == ivslive.EVALIDATION:
		// The handler refuses the event itself: every redelivery would be
		// refused the same way.
		c.Observer.IVSEventDropped(DropInvalid)
		c.Log.Warn("ivs events: the handler refused an event; dropping it", "event", ev.ID, "name", ev.Name, "err", err)
		c.release(ctx, ev)
		return true
	case err != nil:
		c.Observer.IVSEventError("apply")
		c.Log.Warn("ivs events: applying an event failed; it will be redelivered", "event", ev.ID, "name", ev.Name, "err", err)
		c.release(ctx, ev)
		return false
	}
	c.Observer.IVSEventApplied(ev.Name)
	if err := c.Events.FinishEvent(ctx, ev.ID, c.AppliedTTL); err != nil {
		// Deleted anyway: a duplicate would be applied again, which the
		// handlers tolerate, and keeping the message would do the same.
		c.Observer.IVSEventError("finish")
		c.Log.Warn("ivs events: cannot mark an event applied", "event", ev.ID, "err", err)
	}
	return true
}

// release gives up this consumer's claim so a redelivery applies the event
// at once; a claim not released expires after ClaimTTL.
func (c *Consumer) release(ctx context.Context, ev ivslive.IVSEvent) {
	if err := c.Events.ReleaseEvent(ctx, ev.ID, c.Owner); err != nil {
		c.Log.Warn("ivs events: cannot release a claim (it expires on its own)", "event", ev.ID, "err", err)
	}
}

// delete deletes a handled message. A failure only means a redelivery,
// which the event log answers as a duplicate.
func (c *Consumer) delete(m types.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Client.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(c.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
		c.Observer.IVSEventError("delete")
		c.Log.Warn("ivs events: cannot delete a handled message; it will come back as a duplicate", "messageId", aws.ToString(m.MessageId), "err", err)
	}
}

// handBack makes messages this consumer will not handle visible at once,
// best effort (else they wait out their visibility timeout).
func (c *Consumer) handBack(msgs []types.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, m := range msgs {
		_, _ = c.Client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(c.QueueURL),
			ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
	}
}

// nopObserver counts nothing.
type nopObserver struct{}

func (nopObserver) IVSEventReceived()      {}
func (nopObserver) IVSEventApplied(string) {}
func (nopObserver) IVSEventDuplicate()     {}
func (nopObserver) IVSEventDeferred()      {}
func (nopObserver) IVSEventDropped(string) {}
func (nopObserver) IVSEventError(string)   {}
