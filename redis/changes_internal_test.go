package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
)

// oneStage returns a store on a prefix of the test's own with one active
// stage, and the client under it.
func oneStage(t *testing.T) (goredis.UniversalClient, *Presence, string) {
	t.Helper()
	client, prefix := testenv.Redis(t)
	p := NewPresence(client, prefix)
	arn := "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	if err := p.PutStage(context.Background(), arn, ivslive.StageActive); err != nil {
		t.Fatal(err)
	}
	return client, p, arn
}

// A change list past its bound (no checkpoint for a long time) is dropped
// rather than grow without end, and the next checkpoint copies everything:
// nothing seated meanwhile is left out.
func TestOverflowingChangesMeanAFullCopy(t *testing.T) {
	ctx := context.Background()
	client, p, arn := oneStage(t)
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	joinAs := func(user string) {
		t.Helper()
		if _, err := p.Join(ctx, ivslive.JoinRequest{UserID: user, SessionID: "s-" + user, Now: now, Threshold: 10, Capacity: 10}); err != nil {
			t.Fatal(err)
		}
	}
	joinAs("before")
	if ch, err := p.Changes(ctx, now, true); err != nil || !ch.Full {
		t.Fatalf("first take: %+v %v", ch, err)
	}
	// The joins of a long outage of the history store, short of the bound.
	fill := `local n = tonumber(ARGV[1])
for i = 1, n, 1000 do
  local b = {}
  for j = 1, math.min(1000, n - i + 1) do b[j] = 'gone-user' end
  redis.call('RPUSH', KEYS[1], unpack(b))
end
return redis.call('LLEN', KEYS[1])`
	if n, err := client.Eval(ctx, fill, []string{p.joinedKey(arn)}, maxTracked-1).Int(); err != nil || n != maxTracked-1 {
		t.Fatalf("filled %d (%v)", n, err)
	}
	joinAs("at-the-bound")
	if n, err := client.LLen(ctx, p.joinedKey(arn)).Result(); err != nil || n != maxTracked {
		t.Fatalf("the list holds %d (%v), want the bound %d", n, err, maxTracked)
	}
	joinAs("past") // one past the bound
	if n, err := client.Exists(ctx, p.joinedKey(arn)).Result(); err != nil || n != 0 {
		t.Fatalf("the overflowing list is still there (%d, %v)", n, err)
	}
	ch, err := p.Changes(ctx, now.Add(-time.Hour), false)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Full || len(ch.Upsert) != 3 {
		t.Fatalf("after the overflow: full %v with %d sessions, want the full copy of 3", ch.Full, len(ch.Upsert))
	}
	if ch, err := p.Changes(ctx, now.Add(-time.Hour), false); err != nil || ch.Full || len(ch.Upsert) != 0 {
		t.Fatalf("the take after the full copy: %+v %v, want nothing", ch, err)
	}
}

// The silent viewers are read by score, a page at a time: more than a page
// of them, a whole page of them last seen in the same millisecond among
// them, each comes back exactly once.
func TestSilentViewersArePagedByScore(t *testing.T) {
	ctx := context.Background()
	_, p, arn := oneStage(t)
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	var back []ivslive.ViewerSession
	for i := range 2*scriptBatch + 500 {
		last := t0.Add(time.Duration(i) * time.Millisecond)
		if i >= 300 && i < 300+scriptBatch+200 {
			last = t0.Add(300 * time.Millisecond) // one millisecond, more than a page
		}
		u := fmt.Sprint("u", i)
		back = append(back, ivslive.ViewerSession{ID: "s" + u, UserID: u, StageARN: arn, JoinedAt: t0, LastSeen: last})
	}
	back = append(back, ivslive.ViewerSession{ID: "heard", UserID: "heard", StageARN: arn, JoinedAt: t0, LastSeen: t0.Add(time.Hour)})
	if n, err := p.Restore(ctx, back); err != nil || n != len(back) {
		t.Fatalf("restored %d (%v)", n, err)
	}
	if _, err := p.Changes(ctx, t0, true); err != nil {
		t.Fatal(err)
	}
	ch, err := p.Changes(ctx, t0.Add(time.Minute), false)
	if err != nil || ch.Full {
		t.Fatalf("%v, full %v", err, ch.Full)
	}
	got := map[string]int{}
	for _, v := range ch.Upsert {
		got[v.ID]++
	}
	if len(ch.Upsert) != len(back)-1 || len(got) != len(back)-1 || got["heard"] != 0 {
		t.Fatalf("%d silent sessions written, %d distinct (heard: %d); want each of the %d once", len(ch.Upsert), len(got), got["heard"], len(back)-1)
	}
}
