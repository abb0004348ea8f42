package live_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/live"
)

// hostEnv is a server whose emulator runs on the test's clock, with a host
// that publishes real media over WHIP.
type hostEnv struct {
	scaleEnv
	events bool
}

// newHostEnv starts the server. With events, the emulator's EventBridge
// events are applied as the queue consumer would; without, only the
// scaler's reconciler learns what IVS knows.
func newHostEnv(t *testing.T, events bool, tune func(c *live.Config)) hostEnv {
	return newHostEnvOn(t, nil, events, tune)
}

// newHostEnvOn is newHostEnv on a presence twin (nil: memory).
func newHostEnvOn(t *testing.T, presence apitest.PresenceFunc, events bool, tune func(c *live.Config)) hostEnv {
	clock := apitest.NewClock(time.Now().UTC().Truncate(time.Second))
	env := apitest.New(t, apitest.Options{Clock: clock, Presence: presence, Emulator: emulator.Options{Now: clock.Now},
		Live: func(c *live.Config) {
			c.AutoScale, c.Threshold, c.Capacity = true, 2, 3
			if tune != nil {
				tune(c)
			}
		}})
	e := hostEnv{scaleEnv: scaleEnv{Env: env, clock: clock, scaler: &live.Scaler{Service: env.Live, Leader: alwaysLeader{}, Interval: time.Hour}}, events: events}
	if events {
		stop := env.Emulator.SubscribeEvents(func(ev emulator.EventBridgeEvent) {
			if err := env.Live.ApplyIVSEvent(context.Background(), fromEventBridge(ev)); err != nil {
				t.Errorf("apply %s: %v", ev.Detail.EventName, err)
			}
		})
		t.Cleanup(stop)
	} else {
		// The emulator's queue loses every event, so the server's own
		// consumer sees none and the reconciler must reach the state alone.
		env.Emulator.DropEvents(math.MaxInt)
	}
	return e
}

// fromEventBridge is what the queue consumer does with an event's JSON.
func fromEventBridge(ev emulator.EventBridgeEvent) ivslive.IVSEvent {
	at, _ := time.Parse(time.RFC3339Nano, ev.Detail.EventTime)
	out := ivslive.IVSEvent{ID: ev.ID, Time: at, SessionID: ev.Detail.SessionID, Name: ev.Detail.EventName,
		ParticipantID: ev.Detail.ParticipantID, UserID: ev.Detail.UserID, ErrorCode: ev.Detail.ErrorCode,
		DestinationStageARN: ev.Detail.DestinationStageArn, DestinationSessionID: ev.Detail.DestinationSessionID}
	if len(ev.Resources) > 0 {
		out.StageARN = ev.Resources[0]
	}
	return out
}

// host is a publisher token and the WHIP client sending with it.
type host struct {
	participantID, token, whip string
	pub                        *whiptest.Publisher
}

func (e hostEnv) hostToken(t *testing.T) host {
	t.Helper()
	var tok struct {
		Token, ParticipantID, WhipEndpoint string
	}
	e.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"}).Decode(t, &tok)
	// The emulator is mounted on the API server at /ivs/.
	i := strings.Index(tok.WhipEndpoint, "/ivs/")
	return host{participantID: tok.ParticipantID, token: tok.Token, whip: e.URL + tok.WhipEndpoint[i:]}
}

// publish starts real media with h's token and waits until IVS has it.
func (e hostEnv) publish(t *testing.T, h *host) {
	t.Helper()
	pub, err := whiptest.NewPublisher(whiptest.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	// IVS's own word that the media arrived (ListParticipants' "published"
	// means at some time in the session, so it cannot tell a return).
	published := make(chan struct{}, 1)
	stop := e.Emulator.SubscribeEvents(func(ev emulator.EventBridgeEvent) {
		if ev.Detail.EventName == ivslive.IVSEventPublished && ev.Detail.ParticipantID == h.participantID {
			select {
			case published <- struct{}{}:
			default:
			}
		}
	})
	defer stop()
	if resp, err := pub.Connect(t.Context(), e.HTTP, h.whip, h.token); err != nil || resp.Status != 201 {
		t.Fatalf("WHIP publish: %v %+v", err, resp)
	}
	h.pub = pub
	select {
	case <-published:
	case <-time.After(10 * time.Second):
		t.Fatal("IVS did not report the host publishing within 10 s")
	}
}

// unpublish ends the host's WHIP session and waits until IVS knows.
func (e hostEnv) unpublish(t *testing.T, h *host) {
	t.Helper()
	if resp, err := h.pub.Delete(t.Context(), e.HTTP); err != nil || resp.Status != 200 {
		t.Fatalf("WHIP DELETE: %v %+v", err, resp)
	}
	testenv.Eventually(t, 10*time.Second, "the host gone in IVS", func() bool { return !e.publishing(t, h.participantID) })
}

func (e hostEnv) publishing(t *testing.T, pid string) bool {
	st, err := e.IVS.GetStage(context.Background(), e.Live.MasterARN())
	if err != nil || st.ActiveSessionID == "" {
		return false
	}
	ps, err := e.IVS.ListParticipants(context.Background(), st.ARN, st.ActiveSessionID, ivslive.ParticipantFilter{Published: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ID == pid && p.Connected {
			return true
		}
	}
	return false
}

// hostRecorded waits until the recorded publisher says publishing (an event
// applied, or the reconciler ran).
func (e hostEnv) hostRecorded(t *testing.T, publishing bool) {
	t.Helper()
	if !e.events {
		e.check(t)
	}
	testenv.Eventually(t, 5*time.Second, fmt.Sprintf("the host recorded publishing=%v", publishing), func() bool {
		pub, err := e.Presence.Publisher(context.Background())
		return err == nil && pub.Publishing == publishing
	})
}

func bothWays(t *testing.T, run func(t *testing.T, events bool)) {
	t.Run("events", func(t *testing.T) { run(t, true) })
	t.Run("reconciler alone", func(t *testing.T) { run(t, false) })
}

// Viewers are seated only on the master and on replica stages whose
// replication IVS reports ACTIVE: never on a stage made by hand unless it is
// named, and not on a replica stage that lost its replication until the
// scaler restores it.
func TestSeatingFollowsHostMedia(t *testing.T) {
	apitest.Twins(t, func(t *testing.T, presence apitest.PresenceFunc) { seatingFollowsHostMedia(t, presence) })
}

func seatingFollowsHostMedia(t *testing.T, presence apitest.PresenceFunc) {
	bothWays(t, func(t *testing.T, events bool) {
		e := newHostEnvOn(t, presence, events, nil)
		master := e.Live.MasterARN()
		var created struct {
			Stage struct {
				ARN string `json:"arn"`
			} `json:"stage"`
		}
		e.Must(t, 201, "POST", "/api/stage", map[string]string{"name": "side-room"}).Decode(t, &created)
		side := struct{ StageARN string }{created.Stage.ARN}
		h := e.hostToken(t)
		e.publish(t, &h)
		e.hostRecorded(t, true)
		for i := 0; i < 2; i++ {
			if got := e.join(t, fmt.Sprint("m", i)); got != master {
				t.Fatalf("viewer %d seated on %s, want the master (the hand-made stage has no host)", i, got)
			}
		}
		e.check(t) // 2 > 0.8×2: a replica stage, replicated and seated in this round
		auto := e.autoStages(t)
		if len(auto) != 1 || auto[0].Replication == nil {
			t.Fatalf("auto-scaled stages %+v, want one with a replication", auto)
		}
		replica := auto[0].ARN
		if reps := e.replicas(t, h.participantID); len(reps) != 1 || reps[0].DestinationStageARN != replica {
			t.Fatalf("replicas in IVS %+v", reps)
		}
		if got := e.join(t, "r0"); got != replica {
			t.Fatalf("viewer seated on %s, want the replica stage %s", got, replica)
		}
		var named struct {
			StageARN string `json:"stageArn"`
		}
		e.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "asked", "stageArn": side.StageARN}).Decode(t, &named)
		if named.StageARN != side.StageARN {
			t.Fatalf("a request naming the hand-made stage went to %s", named.StageARN)
		}

		// IVS stops the replication (as after the host's reconnect window).
		if err := e.IVS.StopReplication(context.Background(), *auto[0].Replication); err != nil {
			t.Fatal(err)
		}
		if events {
			testenv.Eventually(t, 5*time.Second, "the replica stage without the host", func() bool {
				return e.seating(t, replica) == ivslive.StageNoHost
			})
			if got := e.join(t, "m2"); got != master {
				t.Fatalf("viewer seated on %s while its replication is stopped, want the master", got)
			}
			if r := e.Do(t, "POST", "/api/token/viewer", map[string]string{"userId": "late", "stageArn": replica}); r.Status != 503 {
				t.Fatalf("a request naming the dark stage: %d %s", r.Status, r.Raw)
			}
			e.leave(t, "m2", master) // so the pool does not grow meanwhile
		}
		e.check(t) // the scaler restarts it while the host publishes
		if !fed(e.replicas(t, h.participantID), replica) {
			t.Fatalf("replicas after the check %+v, want the replica stage fed again", e.replicas(t, h.participantID))
		}
		if got := e.join(t, "r1"); got != replica {
			t.Fatalf("viewer seated on %s, want the restored replica stage", got)
		}
		var stats struct {
			Stages []struct {
				ARN       string `json:"stageArn"`
				HostMedia bool   `json:"hostMedia"`
			} `json:"stages"`
		}
		e.Must(t, 200, "GET", "/api/stats", nil).Decode(t, &stats)
		media := map[string]bool{}
		for _, s := range stats.Stages {
			media[s.ARN] = s.HostMedia
		}
		if !media[master] || !media[replica] || media[side.StageARN] {
			t.Fatalf("hostMedia in stats %v: want master and replica, not the hand-made stage", media)
		}
	})
}

// fed reports whether one of reps replicates into arn.
func fed(reps []ivslive.Replication, arn string) bool {
	for _, r := range reps {
		if r.DestinationStageARN == arn {
			return true
		}
	}
	return false
}

func (e hostEnv) seating(t *testing.T, arn string) ivslive.StageState {
	ls, err := e.Presence.Loads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.ARN == arn {
			return l.State
		}
	}
	return ""
}

// With a 60 s publisher token, a host that keeps publishing keeps the
// broadcast live long past 60 s: viewers get tokens, replications stay.
func TestBroadcastOutlivesPublisherToken(t *testing.T) {
	apitest.Twins(t, func(t *testing.T, presence apitest.PresenceFunc) { broadcastOutlivesPublisherToken(t, presence) })
}

func broadcastOutlivesPublisherToken(t *testing.T, presence apitest.PresenceFunc) {
	bothWays(t, func(t *testing.T, events bool) {
		e := newHostEnvOn(t, presence, events, func(c *live.Config) { c.PublisherTokenTTL = time.Minute })
		h := e.hostToken(t)
		e.publish(t, &h)
		e.hostRecorded(t, true)
		e.join(t, "a")
		e.join(t, "b")
		e.check(t)
		for _, step := range []time.Duration{61 * time.Second, time.Hour, 3 * time.Hour} {
			e.clock.Add(step)
			e.check(t)
			if r := e.Do(t, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", step)}); r.Status != 200 {
				t.Fatalf("viewer token %v later: %d %s", step, r.Status, r.Raw)
			}
			// Viewers keep coming, so the pool may grow: every replica
			// stage is fed.
			if reps, auto := e.replicas(t, h.participantID), e.autoStages(t); len(reps) == 0 || len(reps) != len(auto) {
				t.Fatalf("%v later: replicas %+v for %d replica stages", step, reps, len(auto))
			}
		}
	})
}

// The host stops publishing past the reconnect window, IVS ends the
// replication, the host publishes again: the next scaler round restarts the
// replication and viewers are seated on it again.
func TestReplicationRestartedWhenHostReturns(t *testing.T) {
	bothWays(t, func(t *testing.T, events bool) {
		e := newHostEnv(t, events, nil)
		h := e.hostToken(t)
		e.publish(t, &h)
		e.hostRecorded(t, true)
		e.join(t, "a")
		e.join(t, "b")
		e.check(t)
		replica := e.autoStages(t)[0].ARN
		if got := e.join(t, "r0"); got != replica {
			t.Fatalf("viewer on %s, want the replica stage", got)
		}

		e.unpublish(t, &h)
		e.clock.Add(61 * time.Second) // past the 60 s reconnect window
		e.Emulator.Sweep()
		if reps := e.replicas(t, h.participantID); len(reps) != 0 {
			t.Fatalf("IVS kept the replication past its window: %+v", reps)
		}
		if events {
			testenv.Eventually(t, 5*time.Second, "the replica stage without the host", func() bool {
				return e.seating(t, replica) == ivslive.StageNoHost
			})
		}

		e.publish(t, &h) // the same token: the encoder came back
		e.hostRecorded(t, true)
		e.check(t)
		if reps := e.replicas(t, h.participantID); len(reps) != 1 || reps[0].DestinationStageARN != replica {
			t.Fatalf("replicas after one round %+v, want the replica stage fed again", reps)
		}
		if got := e.join(t, "r1"); got != replica {
			t.Fatalf("viewer on %s, want the replica stage again", got)
		}
	})
}
