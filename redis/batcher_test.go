package redis

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive/internal/testenv"
)

// The Batcher's contract: every call gets its own answer, a call whose
// caller gave up is never sent, a caller's deadline holds even when Redis
// does not answer, and Close answers every call. go-redis's AutoPipeliner
// (v9.23) was held to the same contract and failed the second and third
// points (it sends cancelled calls and waits past the caller's deadline),
// so the server keeps the Batcher; BenchmarkPipelining compares the two.

var (
	echoScript = goredis.NewScript(`return ARGV[1]`)
	failScript = goredis.NewScript(`return redis.error_reply('ERR planned failure ' .. ARGV[1])`)
	incrScript = goredis.NewScript(`return redis.call('incr', KEYS[1])`)
)

func newTestBatcher(t *testing.T) (*Batcher, *goredis.Client, string) {
	t.Helper()
	c, prefix := testenv.Redis(t)
	b := NewBatcher(c, 1)
	t.Cleanup(func() { b.Close() })
	return b, c, prefix
}

// await fails the test when f has not returned within a generous bound: the
// point is that it returns at all.
func await[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	c := make(chan T, 1)
	go func() { c <- f() }()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never returned", what)
		panic("unreachable")
	}
}

func TestBatcherAnswersEachCall(t *testing.T) {
	b, _, _ := newTestBatcher(t)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arg := strconv.Itoa(i)
			if i%2 == 0 {
				err := failScript.Run(t.Context(), b, nil, arg).Err()
				if err == nil || err.Error() != "ERR planned failure "+arg {
					t.Errorf("failing call %s: err = %v", arg, err)
				}
				return
			}
			if got, err := echoScript.Run(t.Context(), b, nil, arg).Text(); err != nil || got != arg {
				t.Errorf("call %s beside failing ones = %q, %v", arg, got, err)
			}
		}()
	}
	wg.Wait()
}

func TestBatcherHeartbeatCommand(t *testing.T) {
	b, c, prefix := newTestBatcher(t)
	key := prefix + "live"
	c.ZAdd(t.Context(), key, goredis.Z{Score: 10, Member: "a"})
	zadd := func(score int, member string) int {
		n, err := b.Do(t.Context(), "zadd", key, "XX", "GT", "CH", score, member).Int()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if zadd(20, "a") != 1 || zadd(5, "a") != 0 || zadd(30, "b") != 0 {
		t.Error("ZADD XX GT CH through the Batcher answered wrongly")
	}
	if s, _ := c.ZScore(t.Context(), key, "a").Result(); s != 20 {
		t.Errorf("score = %v, want 20", s)
	}
}

func TestBatcherNeverSendsACancelledCall(t *testing.T) {
	b, c, prefix := newTestBatcher(t)
	key := prefix + "counter"
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 50 {
		if err := incrScript.Run(ctx, b, []string{key}).Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled call: err = %v, want context.Canceled", err)
		}
	}
	// One live call after them: the single worker sends in order, so once it
	// is answered, any cancelled call that was queued has been sent too.
	if err := echoScript.Run(t.Context(), b, nil, "after").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(t.Context(), key).Result(); err != nil || n != 0 {
		t.Errorf("a cancelled call reached Redis: exists = %d, %v", n, err)
	}
}

func TestBatcherHoldsTheCallersDeadline(t *testing.T) {
	// A listener that accepts and never answers stands for a stalled Redis
	// (stalling the shared test server would slow every other test).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	c := goredis.NewClient(&goredis.Options{Addr: ln.Addr().String(), Protocol: 2, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	b := NewBatcher(c, 1)
	t.Cleanup(func() { b.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err = await(t, "a call with a 200 ms deadline to a silent Redis", func() error {
		return echoScript.Run(ctx, b, nil, "x").Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("call to a silent Redis: err = %v, want the caller's deadline", err)
	}
}

func TestBatcherCloseAnswersEveryCall(t *testing.T) {
	b, _, _ := newTestBatcher(t)
	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- echoScript.Run(context.Background(), b, nil, strconv.Itoa(i)).Err()
		}()
	}
	b.Close()
	await(t, "calls made around Close", func() struct{} { wg.Wait(); return struct{}{} })
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, goredis.ErrClosed) {
			t.Errorf("call around Close: %v (want success or ErrClosed)", err)
		}
	}
	err := await(t, "a call after Close", func() error { return echoScript.Run(context.Background(), b, nil, "late").Err() })
	if !errors.Is(err, goredis.ErrClosed) {
		t.Errorf("call after Close: err = %v, want ErrClosed", err)
	}
}
