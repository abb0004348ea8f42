package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/memory"
)

func TestPresenceContract(t *testing.T) {
	contract.PresenceStore(t, func(t *testing.T) contract.Presence {
		sink := &contract.Sink{}
		return contract.Presence{
			Store:    memory.NewPresence(sink, nil, nil),
			Recorded: func(*testing.T) []ivslive.ClosedSession { return sink.Sessions() },
		}
	})
}

// The twins agree on what the store's clock decides.
func TestPresenceClockContract(t *testing.T) {
	contract.PresenceClock(t, func(t *testing.T, now func() time.Time) contract.Presence {
		sink := &contract.Sink{}
		return contract.Presence{Store: memory.NewPresence(sink, now, nil),
			Recorded: func(*testing.T) []ivslive.ClosedSession { return sink.Sessions() }}
	})
}

// A leave whose record cannot be written is refused and undone, so the API
// never acknowledges a leave that history will not have.
func TestLeaveRestoresSessionWhenSinkFails(t *testing.T) {
	ctx := context.Background()
	sink := &contract.Sink{}
	p := memory.NewPresence(sink, nil, nil)
	arn := "arn:aws:ivs:us-east-1:123456789012:stage/AAAAAAAAAAAA"
	p.PutStage(ctx, arn, ivslive.StageActive)
	t0 := time.Now()
	if _, err := p.Join(ctx, ivslive.JoinRequest{UserID: "u", SessionID: "s", Now: t0, Threshold: 1, Capacity: 1}); err != nil {
		t.Fatal(err)
	}
	sink.SetFail(errors.New("disk full"))
	_, err := p.Leave(ctx, ivslive.LeaveRequest{StageARN: arn, UserID: "u", Now: t0.Add(time.Second)})
	if ivslive.ErrorCode(err) != ivslive.EUNAVAILABLE {
		t.Fatalf("leave with a failing sink: %v, want SERVICE_UNAVAILABLE", err)
	}
	if _, err := p.Session(ctx, arn, "u"); err != nil {
		t.Fatalf("session not restored: %v", err)
	}
	if _, err := p.Expire(ctx, t0.Add(time.Hour), 10); err == nil {
		t.Fatal("expiry with a failing sink succeeded")
	}
	sink.SetFail(nil)
	closed, err := p.Leave(ctx, ivslive.LeaveRequest{StageARN: arn, UserID: "u", Now: t0.Add(2 * time.Second)})
	if err != nil || closed.ID != "s" {
		t.Fatalf("leave after recovery: %+v, %v", closed, err)
	}
	if n := len(sink.Sessions()); n != 1 {
		t.Fatalf("recorded %d, want 1", n)
	}
}
