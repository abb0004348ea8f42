package live_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/live"
)

// published collects what the core hands a publisher or a recorder.
type published struct {
	mu     sync.Mutex
	events []ivslive.Event
}

func (p *published) Publish(e ivslive.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
}

func (p *published) Record(_ context.Context, events []ivslive.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, events...)
	return nil
}

// take returns the events of type typ collected so far and forgets all.
func (p *published) take(typ ivslive.EventType) []ivslive.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ivslive.Event
	for _, e := range p.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	p.events = nil
	return out
}

// Every ended session reaches the webhooks as one viewer.left with its
// reason and the stage's count after it: a leave, each viewer of a mass
// expiry (which the bus only summarises), each viewer of a deleted stage
// (which the bus leaves to stage.deleted).
func TestWebhooksGetEveryViewerLeft(t *testing.T) {
	clock := apitest.NewClock(time.Now())
	env := apitest.New(t, apitest.Options{Clock: clock, Live: func(c *live.Config) { c.Capacity, c.Threshold = 500, 500 }})
	hooks, bus := &published{}, &published{}
	env.Live.Webhooks = hooks
	env.Live.Events = bus
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	for i := range 3 {
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)})
	}
	joins := hooks.take(ivslive.EventViewerJoined)
	if len(joins) != 3 || *joins[2].Viewers != 3 {
		t.Fatalf("joins: %+v", joins)
	}
	master := joins[0].StageARN
	env.Must(t, 200, "POST", "/api/viewer/leave", map[string]string{"userId": "v1", "stageArn": master})
	left := hooks.take(ivslive.EventViewerLeft)
	if len(left) != 1 || left[0].UserID != "v1" || left[0].Reason != "leave" || left[0].Viewers == nil || *left[0].Viewers != 2 || left[0].SessionID == "" {
		t.Fatalf("leave: %+v", left)
	}
	if got := bus.take(ivslive.EventViewerLeft); len(got) != 1 || got[0].Viewers != nil {
		t.Fatalf("the bus's leave: %+v", got)
	}

	// A mass expiry: 150 silent viewers (v0, v2 and 148 more).
	for i := 3; i < 151; i++ {
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)})
	}
	hooks.take(ivslive.EventViewerJoined)
	clock.Add(2 * time.Hour)
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "awake"})
	sweeper := &live.Sweeper{Service: env.Live, Leader: alwaysLeader{}, Timeout: time.Hour, Interval: time.Second}
	if n := sweeper.Sweep(context.Background()); n != 150 {
		t.Fatalf("swept %d, want 150", n)
	}
	left = hooks.take(ivslive.EventViewerLeft)
	if len(left) != 150 {
		t.Fatalf("%d viewer.left webhooks for 150 timeouts", len(left))
	}
	for i, e := range left {
		if e.Reason != "timeout" || e.Viewers == nil || *e.Viewers != 150-i || e.UserID == "" || e.Time.After(clock.Now().Add(-time.Hour)) {
			t.Fatalf("timeout %d: %+v (viewers %v), want count %d after it, at the last heartbeat", i, e, e.Viewers, 150-i)
		}
	}
	if got := bus.take(ivslive.EventViewerExpired); len(got) != 1 || got[0].Count != 150 {
		t.Fatalf("the bus's expiry: %+v, want one summary", got)
	}

	// A stage deleted with its viewers.
	r := env.Must(t, 201, "POST", "/api/stage", map[string]any{"name": "extra"})
	var created struct {
		Stage struct {
			StageARN string `json:"arn"`
		} `json:"stage"`
	}
	r.Decode(t, &created)
	st := created.Stage
	for i := range 2 {
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("x", i), "stageArn": st.StageARN})
	}
	hooks.take(ivslive.EventViewerJoined)
	env.Must(t, 200, "DELETE", "/api/stage/"+url.PathEscape(st.StageARN)+"?force=true", nil)
	hooks.mu.Lock()
	all := append([]ivslive.Event(nil), hooks.events...)
	hooks.mu.Unlock()
	var kinds []string
	for _, e := range all {
		v := -1
		if e.Viewers != nil {
			v = *e.Viewers
		}
		kinds = append(kinds, fmt.Sprintf("%s/%s/%d", e.Type, e.Reason, v))
	}
	want := []string{"viewer.left/stage_deleted/1", "viewer.left/stage_deleted/0", "stage.deleted/deleted by API/-1"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("stage deletion webhooks: %v, want %v", kinds, want)
	}
}

// Records the history store refuses reach the webhooks as
// history.dead_lettered, as they reach the bus.
func TestWebhooksGetDeadLetters(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	hooks, bus := &published{}, &published{}
	env.Live.Webhooks, env.Live.Events = hooks, bus
	env.Live.DeadLettered([]ivslive.DeadLetter{{Key: "k", Source: ivslive.DeadLetterFromStore, SessionID: "vs-1", Error: "invalid byte sequence"}})
	got := hooks.take(ivslive.EventHistoryDeadLettered)
	if len(got) != 1 || got[0].SessionID != "vs-1" || got[0].Reason != "invalid byte sequence" {
		t.Fatalf("webhooks got %+v, want one history.dead_lettered for vs-1", got)
	}
	if len(bus.take(ivslive.EventHistoryDeadLettered)) != 1 {
		t.Fatal("the bus did not get the dead letter")
	}
}
