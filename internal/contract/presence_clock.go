package contract

import (
	"context"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
)

// PresenceClock runs the part of the presence contract that reads the
// store's own clock (the publisher's expiry): open must return an empty
// store on the clock now. The clock is a year behind, then a year ahead of
// the wall clock, so a twin that reads the wall clock anywhere (or lets
// Redis's clock expire a key) disagrees with its twin and fails.
func PresenceClock(t *testing.T, open func(t *testing.T, now func() time.Time) Presence) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		offset time.Duration
	}{{"clock behind the wall", -365 * 24 * time.Hour}, {"clock ahead of the wall", 365 * 24 * time.Hour}} {
		t.Run("publisher expires on the store's clock, "+c.name, func(t *testing.T) {
			clock := testenv.NewClock(time.Now().Add(c.offset).UTC().Truncate(time.Millisecond))
			p := open(t, clock.Now)
			pub := ivslive.Publisher{UserID: "host", ParticipantID: "pp", StageARN: stageA,
				JoinedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour), StateAt: clock.Now()}
			if err := p.Store.SetPublisher(ctx, pub); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Store.Publisher(ctx); err != nil {
				t.Fatalf("publisher with an hour left on the store's clock: %v", err)
			}
			clock.Add(time.Hour - time.Millisecond)
			if _, err := p.Store.Publisher(ctx); err != nil {
				t.Fatalf("publisher a millisecond before its expiry: %v", err)
			}
			clock.Add(time.Millisecond)
			_, err := p.Store.Publisher(ctx)
			wantCode(t, err, ivslive.ENOTFOUND)

			// Set when already expired on the store's clock: nothing is live.
			if err := p.Store.SetPublisher(ctx, pub); err != nil {
				t.Fatal(err)
			}
			_, err = p.Store.Publisher(ctx)
			wantCode(t, err, ivslive.ENOTFOUND)
		})
	}
}
