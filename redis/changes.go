package redis

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

// Checkpoint change tracking. Copying the whole presence at every
// checkpoint held Redis (and every heartbeat queued behind it) for seconds
// at 100,000 viewers, so the scripts note what a checkpoint must write:
// each new seat's user on its stage's joined list, each ended session's id
// on the gone list. Both grow with joins and leaves, never with the
// audience. A checkpoint takes the lists, in one step, under a token only
// its taker knows: the next taker with another token (another instance
// became leader, Redis lost its data, a list overflowed) cannot tell what
// was written since, and gets a full copy instead.

// maxTracked bounds each change list between two checkpoints (about 30 MB
// of user ids): past it the list is dropped and the next checkpoint is full.
const maxTracked = 1 << 20

func (p *Presence) tokenKey() string { return p.prefix + "checkpoint:token" }

func (p *Presence) goneKey() string { return p.prefix + "checkpoint:gone" }

func (p *Presence) joinedKey(arn string) string { return p.prefix + "stage:" + arn + ":joined" }

// taking is where a checkpoint moves a change list it reads, so the
// scripts start a new one at once.
func taking(key string) string { return key + ":taking" }

// takeScript starts a checkpoint: it checks the token (for an incremental
// take), sets the new one, and moves each change list to its taking key,
// or drops them all for a full copy. RENAME and UNLINK are O(1) here
// (UNLINK frees in the background), so Redis is held for O(stages).
// ARGV: prefix, expected token, new token, all (0|1). Returns {'full'}
// when the expected token is not the current one, else {'ok', arns...}:
// the stages whose joined list was moved.
var takeScript = goredis.NewScript(luaPrelude + `
local expected, token, all = ARGV[2], ARGV[3], ARGV[4] == '1'
local tk = p .. 'checkpoint:token'
if not all and (redis.call('GET', tk) or '') ~= expected then return {'full'} end
redis.call('SET', tk, token)
local out = {'ok'}
local function take(key)
  redis.call('UNLINK', key .. ':taking')
  if all then
    redis.call('UNLINK', key)
    return false
  end
  if redis.call('EXISTS', key) == 0 then return false end
  redis.call('RENAME', key, key .. ':taking')
  return true
end
take(gonekey)
for _, arn in ipairs(redis.call('ZRANGE', p .. 'stages', 0, -1)) do
  if take(joinedkey(arn)) then out[#out + 1] = arn end
end
return out
`)

// tracker is this process's side of the change tracking.
type tracker struct {
	mu    sync.Mutex
	token string // of this process's last take; "" before the first
}

var _ ivslive.ChangeTracker = (*Presence)(nil)

// Changes implements ivslive.ChangeTracker. Redis is held for one step of
// scriptBatch entries at a time. Unlike the memory twin, it does not know
// which sessions a checkpoint saved: Gone may name sessions never written
// (deleting nothing), and Upsert holds every session silent since
// quietBefore, saved or not.
func (p *Presence) Changes(ctx context.Context, quietBefore time.Time, all bool) (ivslive.PresenceChanges, error) {
	p.tracker.mu.Lock()
	defer p.tracker.mu.Unlock()
	token := ivslive.RandomID(16)
	arns, full, err := p.take(ctx, token, all)
	if err != nil {
		return ivslive.PresenceChanges{}, err
	}
	p.tracker.token = token
	if full {
		return p.everything(ctx)
	}
	var out ivslive.PresenceChanges
	if out.Gone, err = p.popAll(ctx, taking(p.goneKey())); err != nil {
		return out, err
	}
	seen := map[string]map[string]bool{} // arn → user → upserted
	for _, arn := range arns {
		users, err := p.popAll(ctx, taking(p.joinedKey(arn)))
		if err != nil {
			return out, err
		}
		if out.Upsert, err = p.fresh(ctx, arn, users, seen, out.Upsert); err != nil {
			return out, err
		}
	}
	return p.silent(ctx, quietBefore, seen, out)
}

// take runs takeScript, asking for a full copy when the incremental one
// is refused, and says which it got.
func (p *Presence) take(ctx context.Context, token string, all bool) ([]string, bool, error) {
	whole := "0"
	if all {
		whole = "1"
	}
	res, err := takeScript.Run(ctx, p.client, nil, p.prefix, p.tracker.token, token, whole).StringSlice()
	if err != nil {
		return nil, false, unavailable("checkpoint changes", err)
	}
	if len(res) == 0 {
		return nil, false, malformed("checkpoint changes", fmt.Errorf("empty answer"))
	}
	if res[0] == "full" {
		return p.take(ctx, token, true)
	}
	return res[1:], all, nil
}

// everything is a full copy: every live session, stage by stage.
func (p *Presence) everything(ctx context.Context) (ivslive.PresenceChanges, error) {
	out := ivslive.PresenceChanges{Full: true}
	loads, err := p.Loads(ctx)
	if err != nil {
		return out, err
	}
	for _, l := range loads {
		vs, err := p.Viewers(ctx, l.ARN)
		if err != nil {
			return out, err
		}
		out.Upsert = append(out.Upsert, vs...)
	}
	return out, nil
}

// popAll empties a taken list, scriptBatch entries per LPOP.
func (p *Presence) popAll(ctx context.Context, key string) ([]string, error) {
	var all []string
	for {
		vs, err := p.client.LPopCount(ctx, key, scriptBatch).Result()
		if err == goredis.Nil {
			return all, nil
		}
		if err != nil {
			return nil, unavailable("checkpoint changes", err)
		}
		all = append(all, vs...)
		if len(vs) < scriptBatch {
			return all, nil
		}
	}
}

// fresh appends to out the live sessions of users who took a seat on arn
// since the last take (a user who left is skipped; one seated twice is
// read once).
func (p *Presence) fresh(ctx context.Context, arn string, users []string, seen map[string]map[string]bool, out []ivslive.ViewerSession) ([]ivslive.ViewerSession, error) {
	if seen[arn] == nil {
		seen[arn] = map[string]bool{}
	}
	batch := make([]string, 0, scriptBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		scores, err := p.client.ZMScore(ctx, p.liveKey(arn), batch...).Result()
		if err != nil {
			return unavailable("checkpoint changes", err)
		}
		live := make([]goredis.Z, 0, len(batch))
		for i, u := range batch {
			if scores[i] != 0 { // 0: not live (no last-seen is ever the epoch)
				live = append(live, goredis.Z{Member: u, Score: scores[i]})
			}
		}
		vs, err := p.build(ctx, arn, live)
		out = append(out, vs...)
		batch = batch[:0]
		return err
	}
	for _, u := range users {
		if seen[arn][u] {
			continue
		}
		seen[arn][u] = true
		if batch = append(batch, u); len(batch) == scriptBatch {
			if err := flush(); err != nil {
				return out, err
			}
		}
	}
	return out, flush()
}

// silent adds to out the sessions last seen before quietBefore that it
// does not hold yet, with their exact last-seen: they are about to expire,
// and a restore must close them when they went silent.
func (p *Presence) silent(ctx context.Context, quietBefore time.Time, seen map[string]map[string]bool, out ivslive.PresenceChanges) (ivslive.PresenceChanges, error) {
	loads, err := p.Loads(ctx)
	if err != nil {
		return out, err
	}
	for _, l := range loads {
		if seen[l.ARN] == nil {
			seen[l.ARN] = map[string]bool{}
		}
		err := p.silentOf(ctx, l.ARN, quietBefore, func(zs []goredis.Z) error {
			todo := zs[:0:0]
			for _, z := range zs {
				if u := str(z.Member); !seen[l.ARN][u] {
					seen[l.ARN][u] = true
					todo = append(todo, z)
				}
			}
			vs, err := p.build(ctx, l.ARN, todo)
			out.Upsert = append(out.Upsert, vs...)
			return err
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// silentOf passes the live set of arn last seen before quietBefore to f,
// scriptBatch members at a time, paging by score: a LIMIT offset walks the
// skip list past every member before it, so paging through 100,000 silent
// viewers of a playback channel of 850,000 by offset took up to 9 ms a
// page (Redis's slow log at a million viewers). A page restarts at the
// last score it saw, so members sharing it come again (f skips them); a
// page that is one millisecond whole is read whole, so it cannot loop.
func (p *Presence) silentOf(ctx context.Context, arn string, quietBefore time.Time, f func([]goredis.Z) error) error {
	key, lo, hi := p.liveKey(arn), "-inf", "("+strconv.FormatInt(quietBefore.UnixMilli(), 10)
	for {
		zs, err := p.client.ZRangeByScoreWithScores(ctx, key, &goredis.ZRangeBy{Min: lo, Max: hi, Count: scriptBatch}).Result()
		if err != nil {
			return unavailable("checkpoint changes", err)
		}
		if err := f(zs); err != nil || len(zs) < scriptBatch {
			return err
		}
		last := strconv.FormatFloat(zs[len(zs)-1].Score, 'f', -1, 64)
		if zs[0].Score != zs[len(zs)-1].Score {
			lo = last
			continue
		}
		same, err := p.client.ZRangeByScoreWithScores(ctx, key, &goredis.ZRangeBy{Min: last, Max: last}).Result()
		if err != nil {
			return unavailable("checkpoint changes", err)
		}
		if err := f(same); err != nil {
			return err
		}
		lo = "(" + last
	}
}
