package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/webhook"
)

// A receiver that fails its first three requests with 500, lets the fourth
// time out, then recovers, gets every event, each stage's in order, each id
// at least once, and exactly one duplicate for each failure it caused.
func TestDeliveryThroughFailuresAndTimeout(t *testing.T) {
	twins(t, func(t *testing.T, open func(t *testing.T) webhook.Store) {
		const failures, stages, perStage = 4, 3, 20
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			switch {
			case n <= failures-1:
				w.WriteHeader(http.StatusInternalServerError)
			case n == failures:
				<-r.Context().Done() // no answer: the client gives up at its timeout
			default:
				w.WriteHeader(http.StatusNoContent)
			}
		})
		obs := newCounts()
		store := open(t)
		svc := start(t, store, webhook.Config{Targets: []webhook.Target{target(t, "rx", rc.URL, 300*time.Millisecond, secret('a'))}, AllowPrivate: true}, nil, obs)

		// Interleave the stages, as concurrent viewers would.
		order := map[string]int{} // event id → its position within its stage
		stageOf := map[string]string{}
		for i := 0; i < stages*perStage; i++ {
			stage := fmt.Sprintf("arn:aws:ivs:us-east-1:123456789012:stage/s%d", i%stages)
			svc.Publish(joined(stage, i, time.Now()))
		}
		if err := svc.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 30*time.Second, "every event delivered", func() bool { return rc.distinct() == stages*perStage })
		// The receiver has the last request before its sender has the
		// answer and counts it.
		testenv.Eventually(t, 5*time.Second, "every delivery counted", func() bool { return obs.get(ivslive.WebhookDelivered) >= stages*perStage })

		last := map[string]int{}
		for _, r := range rc.receipts() {
			var m webhook.Message
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatalf("body %s: %v", r.Body, err)
			}
			data := m.Data.(map[string]any)
			stage := data["stageArn"].(string)
			n := 0
			fmt.Sscanf(data["userId"].(string), "user-%d", &n)
			if prev, ok := stageOf[r.ID]; ok && prev != stage {
				t.Fatalf("id %s on two stages", r.ID)
			}
			stageOf[r.ID], order[r.ID] = stage, n
			if n < last[stage] {
				t.Fatalf("%s: user-%d arrived after user-%d: out of order", stage, n, last[stage])
			}
			last[stage] = n
			if r.ID != m.ID || m.Type != webhook.ViewerJoined || m.Version != 1 {
				t.Fatalf("header id %s, body %+v", r.ID, m)
			}
		}
		if got := rc.duplicates(); got != failures {
			t.Errorf("the receiver saw %d duplicates, want %d (one per failure it caused)", got, failures)
		}
		if got := obs.get(ivslive.WebhookRetrying); got != failures {
			t.Errorf("retried %d, want %d", got, failures)
		}
		if got := obs.get(ivslive.WebhookDelivered); got != stages*perStage {
			t.Errorf("delivered %d, want %d", got, stages*perStage)
		}
		logged, err := store.Attempts(context.Background(), ivslive.WebhookAttemptFilter{Failures: true, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var errs []string
		for _, a := range logged {
			errs = append(errs, a.Error)
		}
		if len(logged) != failures || !strings.Contains(errs[0], "no answer within 300ms") || !strings.Contains(errs[1], "answered 500") {
			t.Errorf("failures log: %q", errs)
		}
		testenv.Eventually(t, 5*time.Second, "queue empty", func() bool {
			st, err := store.Target(context.Background(), "rx")
			return err == nil && st.Queued == 0 && st.Failing == 0
		})
	})
}

// A service that stops gives back the job it was delivering, untried: an
// instance on the same queue delivers it at once, not when the claim's
// lease (an hour here) runs out, and as its first attempt.
func TestStopGivesJobsBack(t *testing.T) {
	twins(t, func(t *testing.T, open func(t *testing.T) webhook.Store) {
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				<-r.Context().Done() // held until the first service stops
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		store := open(t)
		cfg := webhook.Config{Targets: []webhook.Target{target(t, "rx", rc.URL, time.Minute, secret('a'))}, AllowPrivate: true,
			Lease: time.Hour, Poll: 20 * time.Millisecond}
		first := webhook.New(store, cfg, nil, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); first.Run(ctx) }()
		first.Publish(joined("arn:aws:ivs:us-east-1:123456789012:stage/stop", 1, time.Now()))
		testenv.Eventually(t, 10*time.Second, "the first attempt under way", func() bool { return len(rc.receipts()) == 1 })
		cancel()
		<-done

		start(t, store, cfg, nil, nil)
		testenv.Eventually(t, 10*time.Second, "delivered by the next instance", func() bool { return len(rc.receipts()) == 2 })
		var attempts []ivslive.WebhookAttempt
		testenv.Eventually(t, 5*time.Second, "the attempt logged", func() bool {
			attempts, _ = store.Attempts(context.Background(), ivslive.WebhookAttemptFilter{Limit: 10})
			return len(attempts) == 1
		})
		if a := attempts[0]; a.Outcome != ivslive.WebhookDelivered || a.Attempt != 1 {
			t.Errorf("the attempts log: %+v, want one delivery, attempt 1 (the interrupted one is not counted)", attempts)
		}
	})
}
