package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

func TestPresenceContract(t *testing.T) {
	testenv.Redis(t) // skip once here rather than in every subtest
	t.Run("direct", func(t *testing.T) { presenceContract(t, false) })
	// The same contract with every script call going through shared
	// pipelines, as the server runs it.
	t.Run("batched", func(t *testing.T) { presenceContract(t, true) })
}

// The twins agree on what the store's clock decides.
func TestPresenceClockContract(t *testing.T) {
	contract.PresenceClock(t, func(t *testing.T, now func() time.Time) contract.Presence {
		client, prefix := testenv.Redis(t)
		return contract.Presence{Store: redis.NewPresence(client, prefix, redis.WithNow(now))}
	})
}

func presenceContract(t *testing.T, batched bool) {
	contract.PresenceStore(t, func(t *testing.T) contract.Presence {
		client, prefix := testenv.Redis(t)
		sink := &contract.Sink{}
		rec := redis.NewRecorder(client, prefix, sink, "test", nil)
		var opts []redis.Option
		if batched {
			b := redis.NewBatcher(client, 2)
			t.Cleanup(func() { b.Close() })
			opts = append(opts, redis.WithBatcher(b))
		}
		return contract.Presence{
			Store:   redis.NewPresence(client, prefix, opts...),
			Another: func(*testing.T) ivslive.PresenceStore { return redis.NewPresence(client, prefix, opts...) },
			Recorded: func(t *testing.T) []ivslive.ClosedSession {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := rec.Flush(ctx); err != nil {
					t.Fatalf("flush: %v", err)
				}
				return sink.Sessions()
			},
			// What a restart without persistence does to this prefix.
			Lose: func(t *testing.T) {
				t.Helper()
				keys, err := client.Keys(context.Background(), prefix+"*").Result()
				if err == nil && len(keys) > 0 {
					err = client.Del(context.Background(), keys...).Err()
				}
				if err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// A Redis that cannot be reached is an outage, never a missing session: the
// HTTP layer must answer 503, not 404.
func TestUnreachableRedisIsUnavailable(t *testing.T) {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, DialerRetries: 1, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	p := redis.NewPresence(client, "ivslive:test:down:")
	ctx := context.Background()
	arn := "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	now := time.Now()
	calls := map[string]error{
		"ping":      p.Ping(ctx),
		"put stage": p.PutStage(ctx, arn, ivslive.StageActive),
		"heartbeat": p.Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: arn, UserID: "u", Now: now}),
		"release":   p.Release(ctx, arn, "u", "s"),
		"set pid":   p.SetParticipant(ctx, arn, "u", "s", "p"),
		"clear pub": p.ClearPublisher(ctx, ""),
		"set pub":   p.SetPublisher(ctx, ivslive.Publisher{ExpiresAt: now.Add(time.Hour)}),
	}
	_, calls["join"] = p.Join(ctx, ivslive.JoinRequest{UserID: "u", SessionID: "s", Now: now, Threshold: 1, Capacity: 1})
	_, calls["leave"] = p.Leave(ctx, ivslive.LeaveRequest{StageARN: arn, UserID: "u", Now: now})
	_, calls["expire"] = p.Expire(ctx, now, 10)
	_, calls["remove stage"] = p.RemoveStage(ctx, arn, now)
	_, calls["loads"] = p.Loads(ctx)
	_, calls["viewers"] = p.Viewers(ctx, arn)
	_, calls["session"] = p.Session(ctx, arn, "u")
	_, calls["publisher"] = p.Publisher(ctx)
	_, calls["backlog"] = redis.NewRecorder(client, "ivslive:test:down:", &contract.Sink{}, "c", nil).Backlog(ctx)
	for op, err := range calls {
		if code := ivslive.ErrorCode(err); code != ivslive.EUNAVAILABLE {
			t.Errorf("%s: %v: code %q, want %q", op, err, code, ivslive.EUNAVAILABLE)
		}
	}
}

// Keys follow the documented layout, and a stage's count is the size of its
// live set (no separate counter to drift).
func TestKeyLayout(t *testing.T) {
	client, prefix := testenv.Redis(t)
	p := redis.NewPresence(client, prefix)
	ctx := context.Background()
	arn := "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	t0 := time.UnixMilli(1_764_072_000_123).UTC()
	if err := p.PutStage(ctx, arn, ivslive.StageActive); err != nil {
		t.Fatal(err)
	}
	res, err := p.Join(ctx, ivslive.JoinRequest{UserID: "u1", SessionID: "s1", ParticipantID: "p1", Now: t0, Threshold: 5, Capacity: 5})
	if err != nil {
		t.Fatal(err)
	}
	if score := client.ZScore(ctx, prefix+"stage:"+arn+":live", "u1").Val(); int64(score) != t0.UnixMilli() {
		t.Errorf("live score = %v, want %d", score, t0.UnixMilli())
	}
	// One packed record per viewer in the stage's sessions hash (see
	// record.go): head, id, pid, joined in 6 bytes, an empty user agent
	// inline, an empty ip.
	rec := client.HGet(ctx, prefix+"stage:"+arn+":sessions", "u1").Val()
	if want := "\x01\x02s1\x02p1\x06\x01\x9a\xba\xe2\x8a\x7b\x00\x00\x00\x00"; rec != want {
		t.Errorf("record = %q, want %q", rec, want)
	}
	if st := client.HGet(ctx, prefix+"stage:states", arn).Val(); st != "active" {
		t.Errorf("state = %q", st)
	}
	if !res.Session.JoinedAt.Equal(t0) || res.Session.JoinedAt.Location() != time.UTC {
		t.Errorf("joined = %v, want %v in UTC", res.Session.JoinedAt, t0)
	}
	if _, err := p.Leave(ctx, ivslive.LeaveRequest{StageARN: arn, UserID: "u1", Now: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	msgs := client.XRange(ctx, prefix+"sessions:closed", "-", "+").Val()
	if len(msgs) != 1 || msgs[0].Values["id"] != "s1" || msgs[0].Values["left"] != "1764072001123" || msgs[0].Values["reason"] != "leave" {
		t.Fatalf("stream = %+v", msgs)
	}
	if n := client.Exists(ctx, prefix+"stage:"+arn+":sessions").Val(); n != 0 {
		t.Error("the record survived the leave")
	}
}

// Removing a stage with more sessions than one script call closes still
// closes every one of them and forgets the stage.
func TestRemoveLargeStage(t *testing.T) {
	client, prefix := testenv.Redis(t)
	p := redis.NewPresence(client, prefix)
	ctx := context.Background()
	arn := "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	t0 := time.Now()
	if err := p.PutStage(ctx, arn, ivslive.StageActive); err != nil {
		t.Fatal(err)
	}
	const n = 2500
	for i := 0; i < n; i++ {
		u := fmt.Sprint("u", i)
		if _, err := p.Join(ctx, ivslive.JoinRequest{UserID: u, SessionID: "s" + u, Now: t0, Threshold: n, Capacity: n}); err != nil {
			t.Fatal(err)
		}
	}
	closed, err := p.RemoveStage(ctx, arn, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(closed) != n {
		t.Fatalf("closed %d, want %d", len(closed), n)
	}
	if ls, _ := p.Loads(ctx); len(ls) != 0 {
		t.Fatalf("loads after removal = %+v", ls)
	}
	if l := client.XLen(ctx, prefix+"sessions:closed").Val(); l != n {
		t.Fatalf("stream has %d records, want %d", l, n)
	}
	// Expiry past the script batch size loops from Go as well.
	if err := p.PutStage(ctx, arn, ivslive.StageActive); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		u := fmt.Sprint("v", i)
		if _, err := p.Join(ctx, ivslive.JoinRequest{UserID: u, SessionID: "s" + u, Now: t0, Threshold: n, Capacity: n}); err != nil {
			t.Fatal(err)
		}
	}
	expired, err := p.Expire(ctx, t0.Add(time.Minute), n-1)
	if err != nil || len(expired) != n-1 {
		t.Fatalf("expired %d, %v; want %d", len(expired), err, n-1)
	}
	if ls, _ := p.Loads(ctx); len(ls) != 1 || ls[0].Viewers != 1 {
		t.Fatalf("loads after expiry = %+v", ls)
	}
}

// A stage larger than one ZSCAN step is listed whole, each viewer once,
// oldest last-seen first (the checkpoint reads it this way).
func TestViewersOfALargeStage(t *testing.T) {
	client, prefix := testenv.Redis(t)
	p := redis.NewPresence(client, prefix)
	ctx := context.Background()
	arn := "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	t0 := time.UnixMilli(1_764_072_000_000).UTC()
	if err := p.PutStage(ctx, arn, ivslive.StageActive); err != nil {
		t.Fatal(err)
	}
	const n = 2500
	for i := 0; i < n; i++ {
		// Joined in reverse order of last-seen, so neither the join order
		// nor the user ids give the order asked for.
		u := fmt.Sprint("u", i)
		at := t0.Add(time.Duration(n-i) * time.Millisecond)
		if _, err := p.Join(ctx, ivslive.JoinRequest{UserID: u, SessionID: "s" + u, Now: at, Threshold: n, Capacity: n}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := p.Viewers(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d viewers, want %d", len(got), n)
	}
	for i, v := range got {
		if want := fmt.Sprint("u", n-1-i); v.UserID != want {
			t.Fatalf("viewer %d is %s, want %s (oldest last-seen first)", i, v.UserID, want)
		}
	}
}
