package redis

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

// scriptBatch bounds how many sessions one script call closes, so a large
// expiry or stage removal never blocks Redis for long: Go loops instead.
const scriptBatch = 1000

// Presence implements ivslive.PresenceStore in Redis (see the package doc
// for the key layout). It is safe for concurrent use by many goroutines and
// many processes sharing one Redis primary.
type Presence struct {
	client goredis.UniversalClient
	// scripts runs the Lua scripts and the heartbeat's command: the client
	// itself, or a Batcher that shares round trips between concurrent calls.
	scripts runner
	prefix  string
	// now tells a publisher's expiry (WithNow).
	now func() time.Time
	// tracker holds this process's checkpoint token (changes.go).
	tracker tracker
}

var _ ivslive.PresenceStore = (*Presence)(nil)

// NewPresence returns a store on client whose keys all start with prefix
// (REDIS_KEY_PREFIX, for example "ivs:prod:"). Closed sessions go to the
// prefix's sessions:closed stream; run a Recorder on the same client and
// prefix to move them to the history store.
func NewPresence(client goredis.UniversalClient, prefix string, opts ...Option) *Presence {
	o := options(client, opts)
	return &Presence{client: client, scripts: o.scripts, prefix: prefix, now: o.now}
}

// Option tunes a Presence or a RateLimiter.
type Option func(*optionSet)

type optionSet struct {
	scripts runner
	now     func() time.Time
}

// runner is what the hot paths send commands through: go-redis's client,
// or a Batcher.
type runner interface {
	goredis.Scripter
	Do(ctx context.Context, args ...any) *goredis.Cmd
}

// WithBatcher sends script calls through b, sharing round trips.
func WithBatcher(b *Batcher) Option { return func(o *optionSet) { o.scripts = b } }

func options(client goredis.UniversalClient, opts []Option) optionSet {
	o := optionSet{scripts: client, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	return o
}

func (p *Presence) liveKey(arn string) string { return p.prefix + "stage:" + arn + ":live" }

func (p *Presence) publisherKey() string { return p.prefix + "publisher" }

// streamKey is the stream of closed sessions, shared by Presence (producer)
// and Recorder (consumer).
func streamKey(prefix string) string { return prefix + "sessions:closed" }

// unavailable wraps a Redis failure: the store could not answer, which says
// nothing about whether the thing asked for exists.
func unavailable(op string, err error) error {
	return ivslive.WrapError(ivslive.EUNAVAILABLE, "presence store unavailable", fmt.Errorf("redis presence %s: %w", op, err))
}

// malformed reports a reply the scripts should never produce.
func malformed(op string, err error) error {
	return ivslive.WrapError(ivslive.EINTERNAL, "presence store returned a malformed reply", fmt.Errorf("redis presence %s: %w", op, err))
}

func errSessionNotFound() error { return ivslive.NotFound(ivslive.RSession) }

// Ping implements ivslive.PresenceStore.
func (p *Presence) Ping(ctx context.Context) error {
	if err := p.client.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// intactKey exists while Redis holds the state ivslive put there: Redis
// loses it with everything else (restart without persistence, FLUSHALL).
func (p *Presence) intactKey() string { return p.prefix + "presence:intact" }

// Intact implements ivslive.PresenceStore.
func (p *Presence) Intact(ctx context.Context) (bool, error) {
	n, err := p.client.Exists(ctx, p.intactKey()).Result()
	if err != nil {
		return false, unavailable("intact", err)
	}
	return n == 1, nil
}

// MarkIntact implements ivslive.PresenceStore.
func (p *Presence) MarkIntact(ctx context.Context) error {
	if err := p.client.Set(ctx, p.intactKey(), "1", 0).Err(); err != nil {
		return unavailable("mark intact", err)
	}
	return nil
}

// PutStage implements ivslive.PresenceStore. A stage keeps its registration
// sequence when its state changes, so its place in assignment order is
// stable.
func (p *Presence) PutStage(ctx context.Context, arn string, state ivslive.StageState) error {
	if err := putStageScript.Run(ctx, p.scripts, nil, p.prefix, arn, string(state)).Err(); err != nil {
		return unavailable("put stage", err)
	}
	return nil
}

// RemoveStage implements ivslive.PresenceStore. It closes the stage's
// sessions as stage_deleted at now, scriptBatch per call, and forgets the
// stage with the last call. On error it returns what was closed so far.
func (p *Presence) RemoveStage(ctx context.Context, arn string, now time.Time) ([]ivslive.ClosedSession, error) {
	var closed []ivslive.ClosedSession
	for {
		res, err := removeStageScript.Run(ctx, p.scripts, nil, p.prefix, arn, now.UnixMilli(), scriptBatch).Slice()
		if err != nil {
			return closed, unavailable("remove stage", err)
		}
		if len(res) == 0 {
			return closed, malformed("remove stage", fmt.Errorf("empty reply"))
		}
		batch, err := closedList(res[1:])
		if err != nil {
			return closed, malformed("remove stage", err)
		}
		closed = append(closed, batch...)
		if str(res[0]) == "1" {
			return closed, nil
		}
	}
}

// Loads implements ivslive.PresenceStore in one round trip and O(stages).
func (p *Presence) Loads(ctx context.Context) ([]ivslive.StageLoad, error) {
	res, err := loadsScript.Run(ctx, p.scripts, nil, p.prefix).Slice()
	if err != nil {
		return nil, unavailable("loads", err)
	}
	if len(res)%3 != 0 {
		return nil, malformed("loads", fmt.Errorf("%d values, want triples", len(res)))
	}
	loads := make([]ivslive.StageLoad, 0, len(res)/3)
	for i := 0; i < len(res); i += 3 {
		n, err := strconv.Atoi(str(res[i+2]))
		if err != nil {
			return nil, malformed("loads", fmt.Errorf("count of %s: %w", str(res[i]), err))
		}
		loads = append(loads, ivslive.StageLoad{ARN: str(res[i]), State: ivslive.StageState(str(res[i+1])), Viewers: n})
	}
	return loads, nil
}

// closedWidth is the number of values per closed record in script replies
// and the number of fields per stream entry.
const closedWidth = 10

// closedRecord is a closed session as the scripts write it, in the order
// of the script replies: id, user, stage, pid, joined, last, left, reason,
// ua, ip.
type closedRecord [closedWidth]string

// session converts a record; the three times must be Unix milliseconds.
func (r closedRecord) session() (ivslive.ClosedSession, error) {
	var ts [3]time.Time
	for i, name := range [3]string{"joined", "last", "left"} {
		t, err := parseMillis(r[4+i])
		if err != nil {
			return ivslive.ClosedSession{}, fmt.Errorf("closed session %q: %s: %w", r[0], name, err)
		}
		ts[i] = t
	}
	return ivslive.ClosedSession{
		ViewerSession: ivslive.ViewerSession{
			ID: r[0], UserID: r[1], StageARN: r[2], ParticipantID: r[3],
			JoinedAt: ts[0], LastSeen: ts[1], UserAgent: r[8], IP: r[9],
		},
		LeftAt: ts[2],
		Reason: ivslive.EndReason(r[7]),
	}, nil
}

// closedList converts flattened closed records from a script reply.
func closedList(vals []any) ([]ivslive.ClosedSession, error) {
	if len(vals)%closedWidth != 0 {
		return nil, fmt.Errorf("%d values, not a multiple of %d", len(vals), closedWidth)
	}
	out := make([]ivslive.ClosedSession, 0, len(vals)/closedWidth)
	for i := 0; i < len(vals); i += closedWidth {
		var r closedRecord
		for j := range r {
			r[j] = str(vals[i+j])
		}
		c, err := r.session()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// str renders one element of a script reply: Lua strings come back as
// strings and Lua numbers as integers.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// parseMillis reads Unix milliseconds. Scores come back from Redis as
// doubles, which may be formatted with an exponent, so a float is accepted
// too.
func parseMillis(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(n).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("not Unix milliseconds: %q", s)
	}
	return time.UnixMilli(int64(math.Round(f))).UTC(), nil
}
