package webhook_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/webhook"
)

// slowStore holds every Enqueue until released (or for delay).
type slowStore struct {
	webhook.Store
	mu      sync.Mutex
	delay   time.Duration
	release chan struct{}
}

func (s *slowStore) Enqueue(ctx context.Context, events []ivslive.WebhookEvent, jobs []ivslive.WebhookJob) error {
	s.mu.Lock()
	delay, release := s.delay, s.release
	s.mu.Unlock()
	select {
	case <-release:
	case <-time.After(delay):
	}
	return s.Store.Enqueue(ctx, events, jobs)
}

// apiWith starts the API with webhooks to rc on store.
func apiWith(t *testing.T, store webhook.Store, rc *receiver, wait time.Duration) *apitest.Env {
	cfg := webhook.Config{Targets: []webhook.Target{target(t, "rx", rc.URL, 5*time.Second, secret('a'))}, AllowPrivate: true,
		Poll: 20 * time.Millisecond, Wait: wait}
	return apitest.New(t, apitest.Options{Webhooks: &cfg, WebhookStore: func(testing.TB) webhook.Store { return store }})
}

// When the API answers, the webhooks of the change are in the queue: a
// crash right after the answer cannot lose them. The store here takes
// 100 ms per write; the event must be archived the moment the answer
// arrives.
func TestAnsweredChangeIsQueued(t *testing.T) {
	rc := newReceiver(t, nil)
	store := &slowStore{Store: openSQLite(t), delay: 100 * time.Millisecond}
	env := apiWith(t, store, rc, 5*time.Second)
	start := time.Now()
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v1"})
	took := time.Since(start)
	queued, err := store.Events(context.Background(), start.Add(-time.Second), time.Now().Add(time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range queued {
		types = append(types, e.Type)
	}
	if len(queued) != 2 || types[0] != webhook.BroadcastStarted || types[1] != webhook.ViewerJoined {
		t.Fatalf("queued when the answers arrived: %v, want broadcast.started and viewer.joined", types)
	}
	t.Logf("two requests took %v with a 100 ms queue write each", took)
}

// A queue store that stalls delays a request by Config.Wait at most, and
// the events it held back are delivered once it answers again.
func TestStalledQueueDelaysTheAPIBoundedly(t *testing.T) {
	rc := newReceiver(t, nil)
	store := &slowStore{Store: openSQLite(t), delay: time.Hour, release: make(chan struct{})}
	env := apiWith(t, store, rc, 200*time.Millisecond)
	start := time.Now()
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v1"})
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("two requests took %v with the queue stalled, want about 2 × the 200 ms wait", took)
	}
	if n := len(rc.receipts()); n != 0 {
		t.Fatalf("%d deliveries while the queue was stalled", n)
	}
	close(store.release)
	testenv.Eventually(t, 10*time.Second, "both events delivered", func() bool { return rc.distinct() == 2 })
	if lost := env.Webhooks.Lost(); lost != 0 {
		t.Errorf("%d events lost", lost)
	}
}
