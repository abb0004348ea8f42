package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

// Leases implements ivslive.LeaseStore on Redis: the lease is a key holding
// "<token>:<owner>" set with NX PX, renewed by its owner with PEXPIRE; the
// token comes from a counter that only grows, one per new holder.
type Leases struct {
	client goredis.UniversalClient
	prefix string
}

var _ ivslive.LeaseStore = (*Leases)(nil)

// NewLeases returns a lease store on client under prefix.
func NewLeases(client goredis.UniversalClient, prefix string) *Leases {
	return &Leases{client: client, prefix: prefix}
}

// acquireLeaseScript renews the lease if owner holds it, or takes it if it
// is free. KEYS: lease, counter. ARGV: owner, ttl ms. Returns {held, token}.
var acquireLeaseScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local token, owner = string.match(cur, '^(%d+):(.*)$')
  if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(token)}
  end
  return {0, tonumber(token)}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return {1, token}
`)

// releaseLeaseScript deletes the lease only if owner holds it.
var releaseLeaseScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and string.match(cur, '^%d+:(.*)$') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

func (l *Leases) keys(name string) []string {
	return []string{l.prefix + "lease:" + name, l.prefix + "lease:" + name + ":token"}
}

// AcquireLease implements ivslive.LeaseStore.
func (l *Leases) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	res, err := acquireLeaseScript.Run(ctx, l.client, l.keys(name), owner, ttl.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, false, unavailable("acquire lease", err)
	}
	if len(res) != 2 {
		return 0, false, malformed("acquire lease", fmt.Errorf("%d values, want 2", len(res)))
	}
	return res[1], res[0] == 1, nil
}

// ReleaseLease implements ivslive.LeaseStore.
func (l *Leases) ReleaseLease(ctx context.Context, name, owner string) error {
	if err := releaseLeaseScript.Run(ctx, l.client, l.keys(name), owner).Err(); err != nil {
		return unavailable("release lease", err)
	}
	return nil
}
