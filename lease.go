package ivslive

import (
	"context"
	"time"
)

// LeaseStore grants named, expiring leases, so exactly one instance at a time
// runs the background jobs (scaler, sweeper, snapshots). Implemented by
// memory (one process, always granted) and redis (SET NX PX).
type LeaseStore interface {
	// AcquireLease takes the lease for owner for ttl, or extends it if owner
	// holds it already. held reports whether owner holds it now; token is a
	// fencing token that grows with every new holder.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (token int64, held bool, err error)
	// ReleaseLease gives the lease up if owner holds it, so another instance
	// can take over at once.
	ReleaseLease(ctx context.Context, name, owner string) error
}
