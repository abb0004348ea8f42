package live_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

// IVS delivers events late, repeated and out of order: applying one only
// moves the recorded host forward in event time, and only the end route or
// Unpublished plus the grace period ends a broadcast.
func TestApplyIVSEventOrderAndGrace(t *testing.T) {
	ctx := context.Background()
	clock := apitest.NewClock(time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC))
	env := apitest.New(t, apitest.Options{Clock: clock})
	master := env.Live.MasterARN()
	var tok struct {
		ParticipantID string `json:"participantId"`
	}
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"}).Decode(t, &tok)
	pid := tok.ParticipantID
	seq := 0
	apply := func(name, participant, user string, at time.Time) {
		t.Helper()
		seq++
		ev := ivslive.IVSEvent{ID: string(rune('a' + seq)), Time: at, StageARN: master, Name: name, ParticipantID: participant, UserID: user}
		if err := env.Live.ApplyIVSEvent(ctx, ev); err != nil {
			t.Fatalf("apply %s: %v", name, err)
		}
	}
	state := func() (ivslive.Publisher, bool) {
		pub, err := env.Presence.Publisher(ctx)
		if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
			return pub, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return pub, true
	}
	viewer := func(want int) {
		t.Helper()
		if r := env.Do(t, "POST", "/api/token/viewer", map[string]string{"userId": "v"}); r.Status != want {
			t.Fatalf("viewer token: %d %s, want %d", r.Status, r.Raw, want)
		}
	}
	t0 := clock.Now()

	// Before the host publishes, an Unpublished changes nothing: the token
	// keeps the broadcast live, as with the Node server.
	apply(ivslive.IVSEventUnpublished, pid, "broadcaster-host", t0)
	if pub, ok := state(); !ok || pub.Publishing || !pub.ExpiresAt.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("after a stray Unpublished: %+v %v", pub, ok)
	}
	// A media server publishing on the master is not the host.
	apply(ivslive.IVSEventPublished, "relay", "media-server-x", t0)
	if pub, _ := state(); pub.Publishing {
		t.Fatal("a media server was taken for the host")
	}

	t1 := t0.Add(10 * time.Second)
	apply(ivslive.IVSEventPublished, pid, "broadcaster-host", t1)
	pub, ok := state()
	if !ok || !pub.Publishing || pub.PublishingID != pid || pub.ExpiresAt.Before(t0.Add(24*time.Hour)) {
		t.Fatalf("after Published: %+v", pub)
	}
	apply(ivslive.IVSEventUnpublished, pid, "broadcaster-host", t1.Add(-time.Second)) // late
	apply(ivslive.IVSEventPublished, pid, "broadcaster-host", t1)                     // repeated
	if again, _ := state(); !again.Publishing || !again.StateAt.Equal(t1) {
		t.Fatalf("a late or repeated event moved the host: %+v", again)
	}
	// A publish and its end in the same second (EventBridge's resolution),
	// the end first: the end wins the tie.
	tie0 := t1.Add(5 * time.Second)
	apply(ivslive.IVSEventUnpublished, pid, "broadcaster-host", tie0)
	apply(ivslive.IVSEventPublished, pid, "broadcaster-host", tie0)
	if tie, _ := state(); tie.Publishing {
		t.Fatalf("a Published in the same second as the Unpublished before it kept the host publishing: %+v", tie)
	}
	apply(ivslive.IVSEventPublished, pid, "broadcaster-host", tie0.Add(time.Second))
	if back, _ := state(); !back.Publishing {
		t.Fatalf("a later Published did not bring the host back: %+v", back)
	}

	// A new token while the encoder still sends with the old one: the
	// replications keep following the participant that publishes.
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"}).Decode(t, &tok)
	if pub, _ := state(); pub.ParticipantID != tok.ParticipantID || pub.Source() != pid || !pub.Publishing {
		t.Fatalf("after a new token: %+v", pub)
	}

	clock.Add(5 * time.Hour) // past both tokens' lifetimes
	viewer(200)
	t2 := clock.Now()
	apply(ivslive.IVSEventUnpublished, pid, "broadcaster-host", t2)
	if pub, _ := state(); pub.Publishing || !pub.ExpiresAt.Equal(t2.Add(time.Minute)) {
		t.Fatalf("after Unpublished: %+v, want live for the grace period", pub)
	}
	clock.Add(59 * time.Second)
	viewer(200)
	clock.Add(time.Second)
	viewer(404)

	// The encoder comes back: live again.
	apply(ivslive.IVSEventPublished, pid, "broadcaster-host", clock.Now())
	viewer(200)

	// The end route ends it for good: the same encoder does not revive it.
	env.Must(t, 200, "POST", "/api/token/publisher/end", map[string]any{})
	clock.Add(time.Second)
	apply(ivslive.IVSEventPublished, pid, "broadcaster-host", clock.Now())
	if _, ok := state(); ok {
		t.Fatal("an event after the end route brought the broadcast back")
	}
	viewer(404)
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"}).Decode(t, &tok)
	apply(ivslive.IVSEventPublished, tok.ParticipantID, "broadcaster-host", clock.Now())
	if pub, ok := state(); !ok || !pub.Publishing || pub.PublishingID != tok.ParticipantID {
		t.Fatalf("a new token's host: %+v %v", pub, ok)
	}
}

// actions counts the calls that change something in IVS.
type actions struct {
	ivslive.IVS
	n int
}

func (a *actions) StartReplication(ctx context.Context, r ivslive.Replication) error {
	a.n++
	return a.IVS.StartReplication(ctx, r)
}

func (a *actions) StopReplication(ctx context.Context, r ivslive.Replication) error {
	a.n++
	return a.IVS.StopReplication(ctx, r)
}

func (a *actions) CreateStage(ctx context.Context, in ivslive.CreateStageInput) (ivslive.Stage, error) {
	a.n++
	return a.IVS.CreateStage(ctx, in)
}

func (a *actions) DeleteStage(ctx context.Context, arn string) error {
	a.n++
	return a.IVS.DeleteStage(ctx, arn)
}

// Applying events never acts in IVS: every instance consumes the queue, and
// only the leader's scaler restarts replications, so no event is acted on
// twice.
func TestApplyIVSEventNeverActs(t *testing.T) {
	ctx := context.Background()
	e := newScaleEnv(t, func(c *live.Config) { c.Threshold, c.Capacity = 2, 3 })
	pid := e.publisher(t, true)
	e.join(t, "a")
	e.join(t, "b")
	e.check(t)
	auto := e.autoStages(t)
	if len(auto) != 1 || auto[0].Replication == nil {
		t.Fatalf("auto-scaled stages %+v", auto)
	}
	spy := &actions{IVS: e.Live.IVS}
	e.Live.IVS = spy
	master, now := e.Live.MasterARN(), e.clock.Now()
	for i, name := range []string{ivslive.IVSEventReplicationStopped, ivslive.IVSEventUnpublished, ivslive.IVSEventPublished,
		ivslive.IVSEventReplicationStarted, ivslive.IVSEventPublishError, ivslive.IVSEventReplicationStopped} {
		ev := ivslive.IVSEvent{ID: fmt.Sprint(i), Time: now.Add(time.Duration(i) * time.Second), StageARN: master, Name: name,
			ParticipantID: pid, DestinationStageARN: auto[0].ARN}
		for range 2 { // two instances got it
			if err := e.Live.ApplyIVSEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if spy.n != 0 {
		t.Fatalf("applying events made %d calls that act in IVS", spy.n)
	}
}

// A broadcast that ends by itself (here the grace period after the host
// stopped) is announced once by the leader's round; one the end route
// ended is not announced again.
func TestScalerAnnouncesBroadcastEnd(t *testing.T) {
	ctx := context.Background()
	e := newScaleEnv(t, nil)
	bus := e.Live.Events.(*live.Bus)
	sub := bus.Subscribe(64)
	defer sub.Close()
	ended := func() int {
		n := 0
		for {
			select {
			case ev := <-sub.C:
				if ev.Type == ivslive.EventPublisherEnded {
					n++
				}
			default:
				return n
			}
		}
	}
	pid := e.publisher(t, true)
	e.check(t) // the reconciler sees the host publishing
	e.Emulator.SetPublishing(e.Live.MasterARN(), pid, false)
	e.check(t) // ... and gone: the grace period starts
	if n := ended(); n != 0 {
		t.Fatalf("%d ended events during the grace period", n)
	}
	e.clock.Add(time.Minute)
	e.check(t)
	e.check(t)
	if n := ended(); n != 1 {
		t.Fatalf("%d ended events after the grace period, want 1", n)
	}
	if _, err := e.Presence.Publisher(ctx); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Fatalf("publisher still live: %v", err)
	}

	e.publisher(t, false)
	e.check(t)
	e.Must(t, 200, "POST", "/api/token/publisher/end", map[string]any{})
	e.check(t)
	if n := ended(); n != 1 {
		t.Fatalf("%d ended events for the end route, want its own only", n)
	}
}
