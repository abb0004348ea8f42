package memory

import (
	"context"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// Leases implements ivslive.LeaseStore for one process, with the same
// semantics as the redis twin (expiry, fencing tokens), so tests can run
// several leaders in one process.
type Leases struct {
	mu     sync.Mutex
	now    func() time.Time
	leases map[string]*lease
	tokens map[string]int64
}

type lease struct {
	owner   string
	expires time.Time
	token   int64
}

var _ ivslive.LeaseStore = (*Leases)(nil)

// NewLeases returns an empty lease store on the clock now (nil for time.Now).
func NewLeases(now func() time.Time) *Leases {
	if now == nil {
		now = time.Now
	}
	return &Leases{now: now, leases: map[string]*lease{}, tokens: map[string]int64{}}
}

// AcquireLease implements ivslive.LeaseStore.
func (l *Leases) AcquireLease(_ context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cur, ok := l.leases[name]
	switch {
	case ok && cur.owner == owner && now.Before(cur.expires):
		cur.expires = now.Add(ttl)
		return cur.token, true, nil
	case ok && now.Before(cur.expires):
		return cur.token, false, nil
	}
	l.tokens[name]++
	l.leases[name] = &lease{owner: owner, expires: now.Add(ttl), token: l.tokens[name]}
	return l.tokens[name], true, nil
}

// ReleaseLease implements ivslive.LeaseStore.
func (l *Leases) ReleaseLease(_ context.Context, name, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.leases[name]; ok && cur.owner == owner {
		delete(l.leases, name)
	}
	return nil
}
