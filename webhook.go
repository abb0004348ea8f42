package ivslive

import "time"

// WebhookEvent is one event as webhooks deliver it: the signed JSON body and
// what the queue needs to know about it without parsing the body.
type WebhookEvent struct {
	// ID is the event's unique id, sent as webhook-id; a retry or a replay
	// keeps it, so receivers can drop duplicates.
	ID   string
	Type string
	Time time.Time
	// StageARN orders deliveries: the events of one stage reach a target in
	// the order they were queued. Empty for events of no stage.
	StageARN string
	// Payload is the JSON body, exactly as signed and sent.
	Payload []byte
}

// WebhookJob is one event queued for one target.
type WebhookJob struct {
	Event  WebhookEvent
	Target string
	// EnqueuedAt starts the job's retry budget (WEBHOOK_MAX_AGE).
	EnqueuedAt time.Time

	// ID is the store's name for the job, and Attempt the number of the
	// attempt the claim is for (1 for the first): both set by Claim.
	ID      string
	Attempt int
	// Lease proves the claim: acknowledging or rescheduling a job whose
	// lease passed to another claimer (it was reclaimed after the lease
	// expired) changes nothing.
	Lease string
}

// WebhookOutcome is what became of one delivery attempt.
type WebhookOutcome string

// Attempt outcomes.
const (
	// WebhookDelivered: the target answered 2xx.
	WebhookDelivered WebhookOutcome = "delivered"
	// WebhookRetrying: the attempt failed and the job waits for another.
	WebhookRetrying WebhookOutcome = "retrying"
	// WebhookDropped: the job was given up (too old, or the target answered
	// 410 Gone and was disabled).
	WebhookDropped WebhookOutcome = "dropped"
)

// WebhookAttempt is one delivery attempt, as the recent-deliveries log keeps
// it.
type WebhookAttempt struct {
	Time     time.Time
	Target   string
	EventID  string
	Type     string
	StageARN string
	Attempt  int
	Outcome  WebhookOutcome
	// Status is the HTTP status of the answer, 0 when there was none
	// (timeout, connection refused, address not allowed).
	Status   int
	Error    string
	Duration time.Duration
}

// Failed reports whether the attempt did not deliver.
func (a WebhookAttempt) Failed() bool { return a.Outcome != WebhookDelivered }

// WebhookAttemptFilter selects from the recent-deliveries log.
type WebhookAttemptFilter struct {
	// Target, when set, keeps only that target's attempts.
	Target string
	// Failures keeps only failed attempts, from the separate log of
	// failures, which busy successes do not push out.
	Failures bool
	Limit    int
}

// WebhookTargetStatus is a target's state as the queue store sees it,
// shared by every instance.
type WebhookTargetStatus struct {
	Name string
	// Queued is how many jobs wait for the target (in flight included).
	Queued int64
	// Disabled is set when the target answered 410 Gone, until an admin
	// enables it again.
	Disabled       bool
	DisabledAt     time.Time
	DisabledReason string
	LastDelivered  time.Time
	LastFailed     time.Time
	LastError      string
	// Failing counts the failed attempts since the last delivery.
	Failing int
}
