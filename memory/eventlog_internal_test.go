package memory

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Applied marks that expired are pruned as new events come, so the log of
// a long show stays the size of its duplicates' window.
func TestEventLogPrunes(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	l := NewEventLog(func() time.Time { return now })
	ctx := context.Background()
	for i := range 10_000 {
		if err := l.FinishEvent(ctx, fmt.Sprint("e", i), time.Minute); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	if n := len(l.entries); n > 2*1024 {
		t.Errorf("%d entries kept, want about the last minute's (60) and at most a prune's slack", n)
	}
}
