package ivslive

import (
	"context"
	"time"
)

// EventLog remembers which IVS events are being applied and which were
// applied, by event id, across every instance that consumes the event
// queue: SQS delivers at least once, so two instances can receive the same
// event, and EventBridge itself may send one twice. Implemented by memory
// (one process) and redis (shared; SET NX PX).
//
// Why a claim before applying and a mark after, and not one "seen" mark:
// marking an event seen before applying it would lose it when the instance
// dies between the mark and the apply (the redelivery would be skipped as a
// duplicate); marking it only after applying would let a second instance
// apply it at the same time. So a consumer claims the id for a short ttl
// (EventClaimed: apply it; EventBusy: another instance is applying it, so
// leave the message for redelivery; EventApplied: delete the duplicate),
// finishes it once applied, or releases the claim when applying failed, so
// the redelivery applies it. A claim that outlives a dead instance expires
// on its own. The handlers are idempotent too, so an event applied again
// after a claim expired mid-apply does no harm.
type EventLog interface {
	// ClaimEvent claims id for owner for ttl unless another owner holds a
	// live claim or the event was applied. The same owner claiming again
	// renews its claim.
	ClaimEvent(ctx context.Context, id, owner string, ttl time.Duration) (EventClaim, error)
	// FinishEvent records id as applied for ttl (the window in which a
	// duplicate may still arrive), whoever holds the claim.
	FinishEvent(ctx context.Context, id string, ttl time.Duration) error
	// ReleaseEvent drops owner's claim on id, if owner still holds it and
	// the event is not applied, so a redelivery applies it at once.
	ReleaseEvent(ctx context.Context, id, owner string) error
}

// EventClaim is the answer to EventLog.ClaimEvent.
type EventClaim int

// The answers of EventLog.ClaimEvent.
const (
	// EventClaimed: the caller holds the event now and applies it.
	EventClaimed EventClaim = iota
	// EventBusy: another consumer is applying it.
	EventBusy
	// EventApplied: it was applied before; this is a duplicate.
	EventApplied
)

// String names the claim for logs.
func (c EventClaim) String() string {
	switch c {
	case EventClaimed:
		return "claimed"
	case EventBusy:
		return "busy"
	case EventApplied:
		return "applied"
	}
	return "unknown"
}
