package redis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

// seedOldLayout writes live sessions as a version before packed records
// did: a hash key per session beside the stage's live set.
func seedOldLayout(t *testing.T, client goredis.UniversalClient, prefix string, sessions []ivslive.ViewerSession) {
	t.Helper()
	ctx := context.Background()
	_, err := client.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, s := range sessions {
			if i == 0 || s.StageARN != sessions[i-1].StageARN {
				pipe.ZAdd(ctx, prefix+"stages", goredis.Z{Score: float64(i + 1), Member: s.StageARN})
				pipe.HSet(ctx, prefix+"stage:states", s.StageARN, "active")
			}
			pipe.HSet(ctx, prefix+"session:"+s.StageARN+":"+s.UserID, "id", s.ID, "pid", s.ParticipantID,
				"joined", s.JoinedAt.UnixMilli(), "ua", s.UserAgent, "ip", s.IP)
			pipe.ZAdd(ctx, prefix+"stage:"+s.StageARN+":live", goredis.Z{Score: float64(s.LastSeen.UnixMilli()), Member: s.UserID})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A new binary started against a Redis holding live viewers in the older
// layout orphans none of them: scripts and reads convert a session on
// first touch, MigrateLayout converts the rest once (one instance of many
// doing the work), and every session later ends into history with all its
// fields.
func TestMigrateLayout(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := context.Background()
	a, b := "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA", "arn:aws:ivs:us-east-1:123456789012:stage/BBBBBBBBBBBB"
	t0 := time.UnixMilli(1_764_072_000_123).UTC()
	var old []ivslive.ViewerSession
	for i := range 2503 {
		arn, ua := a, "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"
		if i >= 2500 {
			arn, ua = b, ""
		}
		old = append(old, ivslive.ViewerSession{ID: fmt.Sprint("vs-", i), UserID: fmt.Sprint("u", i), StageARN: arn,
			ParticipantID: fmt.Sprint("p", i), JoinedAt: t0, LastSeen: t0.Add(time.Duration(i) * time.Millisecond), UserAgent: ua, IP: "203.0.113.7"})
	}
	seedOldLayout(t, client, prefix, old)
	p := redis.NewPresence(client, prefix)

	// Before any migration, the old sessions read and answer as they did.
	if got, err := p.Session(ctx, a, "u0"); err != nil || got != old[0] {
		t.Fatalf("session of u0 = %+v, %v; want %+v", got, err, old[0])
	}
	if got, err := p.Viewers(ctx, b); err != nil || !cmp.Equal(got, old[2500:]) {
		t.Fatalf("viewers of b: %v\n%s", err, cmp.Diff(old[2500:], got))
	}
	if err := p.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: a, UserID: "u1", SessionID: "vs-1", Now: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("heartbeat of an old session: %v", err)
	}
	err := p.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: a, UserID: "u2", SessionID: "vs-1", Now: t0.Add(time.Hour)})
	if code := ivslive.ErrorCode(err); code != ivslive.ENOTFOUND {
		t.Fatalf("heartbeat of an old session with another's id: %v, want %s", err, ivslive.ENOTFOUND)
	}
	old[1].LastSeen = t0.Add(time.Hour)

	var wg sync.WaitGroup
	counts := make([]int, 3)
	for i := range counts {
		wg.Go(func() {
			n, err := redis.NewPresence(client, prefix).MigrateLayout(ctx, fmt.Sprint("instance-", i))
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	if counts[0] > 0 && counts[1] > 0 || counts[1] > 0 && counts[2] > 0 || counts[0] > 0 && counts[2] > 0 {
		t.Errorf("converted %v: more than one instance did the work", counts)
	}
	// u0 and stage b's three were converted on first touch; a heartbeat
	// reads an old session without converting it.
	if total := counts[0] + counts[1] + counts[2]; total != len(old)-4 {
		t.Fatalf("converted %v, want %d in all", counts, len(old)-4)
	}
	if keys := client.Keys(ctx, prefix+"session:*").Val(); len(keys) != 0 {
		t.Fatalf("%d session keys of the older layout left, for example %s", len(keys), keys[0])
	}
	if n, err := p.MigrateLayout(ctx, "later"); n != 0 || err != nil {
		t.Fatalf("second migration converted %d, %v", n, err)
	}
	got, err := p.Viewers(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	byID := cmpopts.SortSlices(func(x, y ivslive.ViewerSession) bool { return x.ID < y.ID })
	if diff := cmp.Diff(old[:2500], got, byID); diff != "" {
		t.Fatalf("viewers of a after migration (-want +got):\n%s", diff)
	}

	// Every session ends into history, fields intact.
	closed, err := p.Expire(ctx, t0.Add(2*time.Hour), len(old))
	if err != nil || len(closed) != len(old) {
		t.Fatalf("expired %d, %v; want %d", len(closed), err, len(old))
	}
	sink := &contract.Sink{}
	if err := redis.NewRecorder(client, prefix, sink, "test", nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var want []ivslive.ClosedSession
	for _, s := range old {
		want = append(want, ivslive.ClosedSession{ViewerSession: s, LeftAt: s.LastSeen, Reason: ivslive.EndTimeout})
	}
	sorted := cmpopts.SortSlices(func(x, y ivslive.ClosedSession) bool { return x.ID < y.ID })
	if diff := cmp.Diff(want, sink.Sessions(), sorted); diff != "" {
		t.Fatalf("history (-want +got):\n%s", diff)
	}
}
