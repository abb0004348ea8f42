package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

const testARN = "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"

// countingSink counts delivery attempts, failed or not.
type countingSink struct {
	contract.Sink
	attempts atomic.Int64
}

func (s *countingSink) RecordSessions(ctx context.Context, ss []ivslive.ClosedSession) error {
	s.attempts.Add(1)
	return s.Sink.RecordSessions(ctx, ss)
}

// closeSessions joins and leaves n viewers, so n records wait in the stream.
func closeSessions(t *testing.T, p *redis.Presence, from, n int) {
	t.Helper()
	ctx := context.Background()
	if err := p.PutStage(ctx, testARN, ivslive.StageActive); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := from; i < from+n; i++ {
		u := fmt.Sprint("u", i)
		if _, err := p.Join(ctx, ivslive.JoinRequest{UserID: u, SessionID: "s" + u, Now: now, Threshold: 100, Capacity: 100}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Leave(ctx, ivslive.LeaveRequest{StageARN: testARN, UserID: u, Now: now.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
}

// start runs r in the background; the returned stop cancels it and checks
// that Run returned nil promptly. It is also registered as a cleanup.
func start(t *testing.T, r *redis.Recorder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// assertExactlyOnce checks the sink got want distinct sessions, none twice,
// and the stream kept nothing.
func assertExactlyOnce(t *testing.T, client *goredis.Client, prefix string, rec *redis.Recorder, sink *contract.Sink, want int) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range sink.Sessions() {
		if seen[s.ID] {
			t.Errorf("session %s delivered twice", s.ID)
		}
		seen[s.ID] = true
	}
	if len(seen) != want {
		t.Errorf("delivered %d sessions, want %d", len(seen), want)
	}
	if n, err := rec.Backlog(context.Background()); err != nil || n != 0 {
		t.Errorf("backlog = %d, %v; want 0", n, err)
	}
	if pend := client.XPending(context.Background(), prefix+"sessions:closed", "history").Val(); pend.Count != 0 {
		t.Errorf("%d entries still pending", pend.Count)
	}
}

func TestRecorderRetriesFailingSink(t *testing.T) {
	client, prefix := testenv.Redis(t)
	p := redis.NewPresence(client, prefix)
	sink := &countingSink{}
	sink.SetFail(errors.New("history database down"))
	rec := redis.NewRecorder(client, prefix, sink, "r1", nil)
	closeSessions(t, p, 0, 5)
	stop := start(t, rec)

	testenv.Eventually(t, 10*time.Second, "three failed attempts", func() bool { return sink.attempts.Load() >= 3 })
	if n := len(sink.Sessions()); n != 0 {
		t.Fatalf("failing sink kept %d sessions", n)
	}
	if n, err := rec.Backlog(context.Background()); err != nil || n != 5 {
		t.Fatalf("backlog while the sink fails = %d, %v; want 5", n, err)
	}

	sink.SetFail(nil)
	closeSessions(t, p, 5, 2)
	testenv.Eventually(t, 10*time.Second, "every session delivered", func() bool { return len(sink.Sessions()) >= 7 })
	stop()
	assertExactlyOnce(t, client, prefix, rec, &sink.Sink, 7)
}

func TestRecorderClaimsFromDeadConsumer(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := context.Background()
	p := redis.NewPresence(client, prefix)
	closeSessions(t, p, 0, 4)

	// A consumer reads every entry and dies before acknowledging any.
	stream := prefix + "sessions:closed"
	if err := client.XGroupCreateMkStream(ctx, stream, "history", "0").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := client.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: "history", Consumer: "dead", Streams: []string{stream, ">"}, Count: 100, Block: -1}).Result()
	if err != nil || len(got[0].Messages) != 4 {
		t.Fatalf("dead consumer read %v, %v", got, err)
	}

	sink := &contract.Sink{}
	rec := redis.NewRecorder(client, prefix, sink, "alive", nil, redis.WithMinIdle(20*time.Millisecond))
	stop := start(t, rec)
	testenv.Eventually(t, 10*time.Second, "the dead consumer's entries", func() bool { return len(sink.Sessions()) >= 4 })
	stop()
	assertExactlyOnce(t, client, prefix, rec, sink, 4)
}

// Run leaves another consumer's fresh entries alone until they are idle for
// the min-idle time, so a slow but live consumer is not raced.
func TestRecorderRespectsMinIdle(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := context.Background()
	p := redis.NewPresence(client, prefix)
	closeSessions(t, p, 0, 2)
	stream := prefix + "sessions:closed"
	client.XGroupCreateMkStream(ctx, stream, "history", "0")
	if err := client.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: "history", Consumer: "busy", Streams: []string{stream, ">"}, Block: -1}).Err(); err != nil {
		t.Fatal(err)
	}
	sink := &contract.Sink{}
	start(t, redis.NewRecorder(client, prefix, sink, "other", nil, redis.WithMinIdle(time.Hour)))
	// A record closed now is read in a pass after that pass's claim step:
	// once it is delivered, the recorder has had its chance to claim.
	closeSessions(t, p, 2, 1)
	testenv.Eventually(t, 10*time.Second, "the new record", func() bool { return len(sink.Sessions()) > 0 })
	if got := sink.Sessions(); len(got) != 1 {
		t.Fatalf("delivered %d records, want only the new one: the busy consumer's entries were claimed", len(got))
	}
}

// Entries that cannot be parsed go to the sink's dead letters, with the
// entry as it was, and are acknowledged; the good ones around them are
// delivered. Until the dead letters are stored, nothing is acknowledged.
func TestRecorderDeadLettersMalformedEntries(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := context.Background()
	p := redis.NewPresence(client, prefix)
	stream := prefix + "sessions:closed"
	client.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []string{"garbage", "x"}})
	closeSessions(t, p, 0, 1)
	client.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []string{"id", "bad", "user", "u", "stage", testARN, "joined", "yesterday", "last", "1", "left", "1", "reason", "leave"}})
	closeSessions(t, p, 1, 1)

	var logs bytes.Buffer
	sink := &contract.Sink{}
	rec := redis.NewRecorder(client, prefix, sink, "r", slog.New(slog.NewTextHandler(&logs, nil)))
	sink.SetFail(errors.New("history database down"))
	if err := rec.Flush(ctx); err == nil {
		t.Fatal("flush with a failing sink succeeded")
	}
	if n, _ := rec.Backlog(ctx); n != 4 {
		t.Fatalf("backlog %d after a failed flush, want 4: nothing acknowledged", n)
	}
	sink.SetFail(nil)
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, client, prefix, rec, sink, 2)
	letters := sink.DeadLetters()
	if len(letters) != 2 {
		t.Fatalf("%d dead letters, want 2: %+v", len(letters), letters)
	}
	if l := letters[0]; l.Source != ivslive.DeadLetterFromStream || l.Record != `{"garbage":"x"}` || !strings.Contains(l.Error, "missing") {
		t.Errorf("first dead letter %+v", l)
	}
	if l := letters[1]; l.SessionID != "bad" || !strings.Contains(l.Record, `"joined":"yesterday"`) || !strings.Contains(l.Error, "joined") {
		t.Errorf("second dead letter %+v", l)
	}
	if c := strings.Count(logs.String(), "malformed closed-session entry"); c < 2 {
		t.Fatalf("logged %d malformed entries, want 2 or more:\n%s", c, logs.String())
	}
}

// Oldest dates the oldest undelivered record from its entry id.
func TestRecorderOldest(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := context.Background()
	sink := &contract.Sink{}
	rec := redis.NewRecorder(client, prefix, sink, "r", nil)
	if at, err := rec.Oldest(ctx); err != nil || !at.IsZero() {
		t.Fatalf("oldest of an empty stream: %v, %v", at, err)
	}
	stream := prefix + "sessions:closed"
	client.XAdd(ctx, &goredis.XAddArgs{Stream: stream, ID: "1700000000123-0", Values: []string{"garbage", "x"}})
	client.XAdd(ctx, &goredis.XAddArgs{Stream: stream, ID: "1700000005000-0", Values: []string{"garbage", "y"}})
	if at, err := rec.Oldest(ctx); err != nil || !at.Equal(time.UnixMilli(1700000000123)) {
		t.Fatalf("oldest = %v, %v; want %v", at, err, time.UnixMilli(1700000000123).UTC())
	}
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if at, err := rec.Oldest(ctx); err != nil || !at.IsZero() {
		t.Fatalf("oldest after delivery: %v, %v", at, err)
	}
}

// Flush returns a sink error and keeps the entries for the next attempt.
func TestFlushKeepsEntriesOnSinkError(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx := context.Background()
	closeSessions(t, redis.NewPresence(client, prefix), 0, 3)
	sink := &contract.Sink{}
	sink.SetFail(errors.New("disk full"))
	rec := redis.NewRecorder(client, prefix, sink, "r", nil)
	if err := rec.Flush(ctx); err == nil {
		t.Fatal("flush with a failing sink succeeded")
	}
	if n, _ := rec.Backlog(ctx); n != 3 {
		t.Fatalf("backlog after failed flush = %d, want 3", n)
	}
	sink.SetFail(nil)
	// Another instance's Flush takes over the failed consumer's entries.
	other := redis.NewRecorder(client, prefix, sink, "r2", nil)
	if err := other.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, client, prefix, other, sink, 3)
}
