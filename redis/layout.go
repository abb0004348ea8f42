package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// layoutVersion names the key layout of packed records (record.go); the
// layout before it, one hash key per session, is version 1.
const layoutVersion = "2"

// layoutLease bounds how long a crashed migration keeps the others from
// taking over; the owner renews it after every batch.
const layoutLease = time.Minute

// layoutKey holds layoutVersion once every session of an older layout found
// at start was converted, so later starts skip the scan.
func (p *Presence) layoutKey() string { return p.prefix + "layout" }

// convertScript converts, for users live on a stage, a session hash of the
// older layout into a packed record, in one step per batch so a session is
// never in both or neither. ARGV: prefix, arn, users... Returns how many it
// converted.
var convertScript = goredis.NewScript(luaPrelude + `
local arn, n = ARGV[2], 0
local lk = livekey(arn)
for i = 3, #ARGV do
  if redis.call('ZSCORE', lk, ARGV[i]) then
    local _, converted = record(arn, ARGV[i])
    if converted then n = n + 1 end
  end
end
return n
`)

// MigrateLayout converts the live sessions an older version of ivslive
// wrote (a hash key per session) into packed records, and returns how many
// it converted. It is idempotent and bounded: scriptBatch sessions per
// script call, stage by stage, visiting each live set with ZSCAN so
// heartbeats moving scores do not make it skip anyone. A lease named
// "layout" lets one instance of many do the work; the others return 0 at
// once. Until it is done, and for sessions an older instance still writes
// during a rolling deploy, every script converts a session on first touch,
// so none is orphaned: each still closes into history. owner names this
// instance in the lease.
func (p *Presence) MigrateLayout(ctx context.Context, owner string) (int, error) {
	v, err := p.client.Get(ctx, p.layoutKey()).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return 0, unavailable("migrate layout", err)
	}
	if v == layoutVersion {
		return 0, nil
	}
	leases := NewLeases(p.client, p.prefix)
	if _, held, err := leases.AcquireLease(ctx, "layout", owner, layoutLease); err != nil || !held {
		return 0, err
	}
	defer leases.ReleaseLease(context.WithoutCancel(ctx), "layout", owner)
	stages, err := p.client.ZRange(ctx, p.prefix+"stages", 0, -1).Result()
	if err != nil {
		return 0, unavailable("migrate layout", err)
	}
	total := 0
	for _, arn := range stages {
		n, err := p.migrateStage(ctx, arn, func() error {
			_, held, err := leases.AcquireLease(ctx, "layout", owner, layoutLease)
			if err == nil && !held {
				err = fmt.Errorf("redis presence migrate layout: lease lost")
			}
			return err
		})
		total += n
		if err != nil {
			return total, err
		}
	}
	if err := p.client.Set(ctx, p.layoutKey(), layoutVersion, 0).Err(); err != nil {
		return total, unavailable("migrate layout", err)
	}
	return total, nil
}

// migrateStage converts the sessions of one stage, calling renew between
// batches.
func (p *Presence) migrateStage(ctx context.Context, arn string, renew func() error) (int, error) {
	total := 0
	var cursor uint64
	for {
		pairs, next, err := p.client.ZScan(ctx, p.liveKey(arn), cursor, "", scriptBatch).Result()
		if err != nil {
			return total, unavailable("migrate layout", err)
		}
		args := []any{p.prefix, arn}
		for i := 0; i < len(pairs); i += 2 { // member, score
			args = append(args, pairs[i])
		}
		if len(args) > 2 {
			n, err := convertScript.Run(ctx, p.client, nil, args...).Int()
			if err != nil {
				return total, unavailable("migrate layout", err)
			}
			total += n
		}
		if cursor = next; cursor == 0 {
			return total, nil
		}
		if err := renew(); err != nil {
			return total, err
		}
	}
}
