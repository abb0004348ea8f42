package webhook

import (
	"context"
	"time"

	"github.com/ivslive/ivslive"
)

// Store is the durable queue behind the webhooks, with two twins: Redis
// (shared by every instance) and SQLite (embedded mode). Both pass the
// contract suite in internal/contract.
//
// Jobs form one queue per target and stage (the job's Event.StageARN): a
// queue hands out its oldest job only, to one claimer at a time, and the
// next only once that one is acknowledged, so a stage's events reach a
// target in order. A claim is a lease: when its holder dies, the job is due
// again when the lease runs out, for any instance to claim.
type Store interface {
	// Enqueue archives events (for replays; oldest dropped beyond the
	// store's archive size) and appends jobs to their queues, durably, in
	// one step. Jobs for a disabled target are left out.
	Enqueue(ctx context.Context, events []ivslive.WebhookEvent, jobs []ivslive.WebhookJob) error
	// Claim leases to the caller, until now+lease, the oldest job of up to
	// max of the target's queues that are due at now, most overdue first.
	Claim(ctx context.Context, target string, now time.Time, lease time.Duration, max int) ([]ivslive.WebhookJob, error)
	// Ack removes a claimed job (delivered, or given up) and logs a.
	// When its queue holds another job, Ack claims it under a new lease
	// until now+lease and returns it with true. A job whose lease was lost
	// gives ECONFLICT and changes nothing.
	Ack(ctx context.Context, job ivslive.WebhookJob, a ivslive.WebhookAttempt, now time.Time, lease time.Duration) (ivslive.WebhookJob, bool, error)
	// Retry gives a claimed job back, due again at at, and logs a. The
	// job stays at the head of its queue. A zero a (no EventID) gives it
	// back untried: nothing is logged and the claim's attempt is not
	// counted. A lost lease gives ECONFLICT.
	Retry(ctx context.Context, job ivslive.WebhookJob, a ivslive.WebhookAttempt, at time.Time) error
	// Disable marks a target disabled and drops every job queued for it,
	// returning how many.
	Disable(ctx context.Context, target, reason string, at time.Time) (int, error)
	// Enable clears a target's disabled mark.
	Enable(ctx context.Context, target string) error
	// Target returns a target's shared state; a target never seen is
	// enabled with nothing queued.
	Target(ctx context.Context, target string) (ivslive.WebhookTargetStatus, error)
	// Event returns an archived event, or ENOTFOUND.
	Event(ctx context.Context, id string) (ivslive.WebhookEvent, error)
	// Events returns up to limit archived events whose time is in
	// [from, to], oldest first.
	Events(ctx context.Context, from, to time.Time, limit int) ([]ivslive.WebhookEvent, error)
	// Attempts returns recent delivery attempts, newest first, from the
	// newest entries of the log (or of the failures log).
	Attempts(ctx context.Context, f ivslive.WebhookAttemptFilter) ([]ivslive.WebhookAttempt, error)
}

// Default sizes of the archive and of each attempts log, for the twins.
const (
	DefaultArchiveSize = 100_000
	DefaultLogSize     = 1000
)
