package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
)

// An event published on one instance reaches every instance, itself too.
func TestEventsReachEveryInstance(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := [2]chan ivslive.Event{make(chan ivslive.Event, 10), make(chan ivslive.Event, 10)}
	var relays []*redis.Events
	for i := range got {
		r := redis.NewEvents(client, prefix, func(e ivslive.Event) { got[i] <- e }, nil)
		relays = append(relays, r)
		go r.Run(ctx)
	}
	// Publish until both have subscribed: pub/sub does not keep messages.
	deadline := time.After(5 * time.Second)
	for i := 0; ; i++ {
		relays[0].Publish(ivslive.Event{Type: ivslive.EventViewerJoined, UserID: "u", Viewers: ptr(i)})
		select {
		case e := <-got[1]:
			if e.Type != ivslive.EventViewerJoined || e.UserID != "u" || e.Viewers == nil {
				t.Fatalf("instance 1 got %+v", e)
			}
			select {
			case e := <-got[0]:
				if e.UserID != "u" {
					t.Fatalf("instance 0 got %+v", e)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("the publishing instance did not get its own event")
			}
			return
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("no event crossed instances")
		}
	}
}

func ptr(i int) *int { return &i }
