package contract

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
)

// EventLog runs the event log contract. open must return an empty log and
// a function that moves the log's clock forward by d (a fake clock's, or for
// a log that keeps time itself, such as Redis, waiting d).
func EventLog(t *testing.T, open func(t *testing.T) (l ivslive.EventLog, advance func(d time.Duration))) {
	ctx := context.Background()
	claim := func(t *testing.T, l ivslive.EventLog, id, owner string, ttl time.Duration, want ivslive.EventClaim) {
		t.Helper()
		got, err := l.ClaimEvent(ctx, id, owner, ttl)
		if err != nil || got != want {
			t.Fatalf("ClaimEvent(%s, %s) = %v, %v; want %v", id, owner, got, err, want)
		}
	}

	t.Run("one holder, then applied", func(t *testing.T) {
		l, _ := open(t)
		claim(t, l, "e1", "a", time.Minute, ivslive.EventClaimed)
		claim(t, l, "e1", "b", time.Minute, ivslive.EventBusy)
		claim(t, l, "e1", "a", time.Minute, ivslive.EventClaimed) // renewal
		claim(t, l, "e2", "b", time.Minute, ivslive.EventClaimed) // ids are independent
		if err := l.ReleaseEvent(ctx, "e1", "b"); err != nil {
			t.Fatal(err)
		}
		claim(t, l, "e1", "b", time.Minute, ivslive.EventBusy) // b's release did not free a's claim
		if err := l.FinishEvent(ctx, "e1", time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := l.ReleaseEvent(ctx, "e1", "a"); err != nil {
			t.Fatal(err)
		}
		claim(t, l, "e1", "a", time.Minute, ivslive.EventApplied) // a release never forgets an applied event
		claim(t, l, "e1", "b", time.Minute, ivslive.EventApplied)
	})

	t.Run("a released claim is free", func(t *testing.T) {
		l, _ := open(t)
		claim(t, l, "e", "a", time.Minute, ivslive.EventClaimed)
		if err := l.ReleaseEvent(ctx, "e", "a"); err != nil {
			t.Fatal(err)
		}
		claim(t, l, "e", "b", time.Minute, ivslive.EventClaimed)
	})

	t.Run("claims and marks expire", func(t *testing.T) {
		l, advance := open(t)
		claim(t, l, "dead", "a", 50*time.Millisecond, ivslive.EventClaimed)
		if err := l.FinishEvent(ctx, "old", 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		claim(t, l, "dead", "b", time.Minute, ivslive.EventBusy)
		claim(t, l, "old", "c", time.Minute, ivslive.EventApplied)
		advance(50 * time.Millisecond)
		claim(t, l, "dead", "b", time.Minute, ivslive.EventClaimed) // a dead holder's claim expired
		claim(t, l, "old", "c", time.Minute, ivslive.EventClaimed)  // and so did the applied mark
	})

	t.Run("concurrent claims: one wins", func(t *testing.T) {
		l, _ := open(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := l.ClaimEvent(ctx, "race", fmt.Sprint("owner", i), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if got == ivslive.EventClaimed {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d owners claimed the event, want 1", won)
		}
	})
}
