package contract

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/webhook"
)

// WebhookStore runs the webhook queue contract. open must return an empty
// store keeping archiveSize events and logSize attempts.
func WebhookStore(t *testing.T, open func(t *testing.T, archiveSize, logSize int) webhook.Store) {
	t.Run("order and leases", func(t *testing.T) { webhookOrder(t, open(t, 100, 100)) })
	t.Run("lease expiry", func(t *testing.T) { webhookExpiry(t, open(t, 100, 100)) })
	t.Run("disable", func(t *testing.T) { webhookDisable(t, open(t, 100, 100)) })
	t.Run("archive", func(t *testing.T) { webhookArchive(t, open(t, 3, 100)) })
	t.Run("attempts", func(t *testing.T) { webhookAttempts(t, open(t, 100, 3)) })
}

// webhookT0 is the time of the contract's events.
const webhookT0 = hookTime(1772366400000) // 2026-03-01T12:00:00Z

// hookTime is Unix milliseconds, as the stores keep times.
type hookTime int64

// Add returns the time d after h.
func (h hookTime) Add(d time.Duration) time.Time { return time.UnixMilli(int64(h)).UTC().Add(d) }

// hookEvent is event n of a stage, at t0 + n seconds.
func hookEvent(stage string, n int) ivslive.WebhookEvent {
	return ivslive.WebhookEvent{ID: fmt.Sprintf("msg_%s_%03d", stage, n), Type: webhook.ViewerJoined, Time: webhookT0.Add(time.Duration(n) * time.Second),
		StageARN: stage, Payload: []byte(fmt.Sprintf(`{"n":%d,"s":"caf\u00e9 \n%s"}`, n, stage))}
}

func hookJob(target string, e ivslive.WebhookEvent) ivslive.WebhookJob {
	return ivslive.WebhookJob{Event: e, Target: target, EnqueuedAt: e.Time}
}

func mustEnqueue(t *testing.T, s webhook.Store, events []ivslive.WebhookEvent, jobs ...ivslive.WebhookJob) {
	t.Helper()
	if err := s.Enqueue(context.Background(), events, jobs); err != nil {
		t.Fatal(err)
	}
}

func claimIDs(t *testing.T, s webhook.Store, target string, now time.Time, max int) []ivslive.WebhookJob {
	t.Helper()
	jobs, err := s.Claim(context.Background(), target, now, time.Minute, max)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func ids(jobs []ivslive.WebhookJob) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.Event.ID
	}
	return out
}

func delivered(j ivslive.WebhookJob, at time.Time) ivslive.WebhookAttempt {
	return ivslive.WebhookAttempt{Time: at, Target: j.Target, EventID: j.Event.ID, Type: j.Event.Type, StageARN: j.Event.StageARN,
		Attempt: j.Attempt, Outcome: ivslive.WebhookDelivered, Status: 204, Duration: 1500 * time.Microsecond}
}

func webhookOrder(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	a1, a2, a3, b1 := hookEvent("a", 1), hookEvent("a", 2), hookEvent("a", 3), hookEvent("b", 4)
	mustEnqueue(t, s, nil, hookJob("t", a1), hookJob("t", a2), hookJob("t", a3), hookJob("t", b1), hookJob("u", a1))
	now := webhookT0.Add(time.Minute)

	// One job per queue, its oldest; the other target's queue apart.
	got := claimIDs(t, s, "t", now, 10)
	if diff := cmp.Diff([]string{a1.ID, b1.ID}, ids(got)); diff != "" {
		t.Fatalf("first claim (-want +got):\n%s", diff)
	}
	ja, jb := got[0], got[1]
	if ja.Attempt != 1 || ja.Lease == "" || ja.ID == "" || !ja.EnqueuedAt.Equal(a1.Time) {
		t.Fatalf("claimed job: %+v", ja)
	}
	if diff := cmp.Diff(a1, ja.Event); diff != "" {
		t.Fatalf("the job's event changed in the queue (-want +got):\n%s", diff)
	}
	if again := claimIDs(t, s, "t", now, 10); len(again) != 0 {
		t.Fatalf("leased queues were claimed again: %v", ids(again))
	}
	if u := claimIDs(t, s, "u", now, 10); len(u) != 1 || u[0].Event.ID != a1.ID {
		t.Fatalf("target u: %v", ids(u))
	}

	// A wrong lease changes nothing.
	stale := ja
	stale.Lease = "not-the-lease"
	if _, _, err := s.Ack(ctx, stale, delivered(stale, now), now, time.Minute); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		t.Fatalf("ack with a wrong lease: %v, want CONFLICT", err)
	}
	if err := s.Retry(ctx, stale, ivslive.WebhookAttempt{}, now); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		t.Fatalf("retry with a wrong lease: %v, want CONFLICT", err)
	}

	// Ack hands over the queue's next job, already leased.
	next, more, err := s.Ack(ctx, ja, delivered(ja, now), now, time.Minute)
	if err != nil || !more || next.Event.ID != a2.ID || next.Attempt != 1 || next.Lease == "" || next.Lease == ja.Lease {
		t.Fatalf("ack a1: next %+v more %v err %v, want a2 leased", next, more, err)
	}
	if _, more, err := s.Ack(ctx, jb, delivered(jb, now), now, time.Minute); err != nil || more {
		t.Fatalf("ack b1: more %v err %v", more, err)
	}
	if _, _, err := s.Ack(ctx, ja, delivered(ja, now), now, time.Minute); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		t.Fatalf("a second ack of a1: %v, want CONFLICT", err)
	}

	// A retry keeps the job at the head until it is due again.
	failed := delivered(next, now)
	failed.Outcome, failed.Status, failed.Error = ivslive.WebhookRetrying, 500, "answered 500"
	if err := s.Retry(ctx, next, failed, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, s, "t", now.Add(59*time.Second), 10); len(got) != 0 {
		t.Fatalf("claimed before due: %v", ids(got))
	}
	got = claimIDs(t, s, "t", now.Add(time.Minute), 10)
	if len(got) != 1 || got[0].Event.ID != a2.ID || got[0].Attempt != 2 || got[0].Lease == next.Lease {
		t.Fatalf("after the retry: %+v, want a2 at attempt 2 with a new lease", got)
	}
	// Given back untried (a stopping instance): due at once, not counted.
	if err := s.Retry(ctx, got[0], ivslive.WebhookAttempt{}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got = claimIDs(t, s, "t", now.Add(time.Minute), 10)
	if len(got) != 1 || got[0].Event.ID != a2.ID || got[0].Attempt != 2 {
		t.Fatalf("after giving it back untried: %+v, want a2 at attempt 2 again", got)
	}
	if _, _, err := s.Ack(ctx, next, delivered(next, now), now, time.Minute); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		t.Fatalf("ack with the lease given back: %v, want CONFLICT", err)
	}
	st, err := s.Target(ctx, "t")
	if err != nil || st.Queued != 2 || st.Failing != 1 || st.LastError != "answered 500" || !st.LastFailed.Equal(now) || !st.LastDelivered.Equal(now) {
		t.Fatalf("target state: %+v %v", st, err)
	}
	n3, more, err := s.Ack(ctx, got[0], delivered(got[0], now.Add(2*time.Minute)), now.Add(2*time.Minute), time.Minute)
	if err != nil || !more || n3.Event.ID != a3.ID {
		t.Fatalf("ack a2: %+v %v %v", n3, more, err)
	}
	if _, more, err := s.Ack(ctx, n3, delivered(n3, now), now, time.Minute); err != nil || more {
		t.Fatalf("ack a3: more %v err %v", more, err)
	}
	st, _ = s.Target(ctx, "t")
	if st.Queued != 0 || st.Failing != 0 {
		t.Fatalf("target state after delivering everything: %+v", st)
	}
	// An emptied queue comes back with new jobs.
	a4 := hookEvent("a", 5)
	mustEnqueue(t, s, nil, hookJob("t", a4))
	if got := claimIDs(t, s, "t", now.Add(3*time.Minute), 10); len(got) != 1 || got[0].Event.ID != a4.ID || got[0].Attempt != 1 {
		t.Fatalf("a queue refilled: %+v", got)
	}
}

func webhookExpiry(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	var jobs []ivslive.WebhookJob
	for i, stage := range []string{"c", "a", "b"} {
		jobs = append(jobs, ivslive.WebhookJob{Event: hookEvent(stage, i), Target: "t", EnqueuedAt: webhookT0.Add(time.Duration(i) * time.Second)})
	}
	mustEnqueue(t, s, nil, jobs...)
	now := webhookT0.Add(time.Minute)
	first := claimIDs(t, s, "t", now, 1)
	if len(first) != 1 || first[0].Event.StageARN != "c" {
		t.Fatalf("claim one: %v, want the most overdue queue (c)", ids(first))
	}
	// The holder dies: the job is due again when its lease runs out.
	if got := claimIDs(t, s, "t", now.Add(59*time.Second), 5); len(got) != 2 {
		t.Fatalf("before the lease ran out: %v, want the two other queues", ids(got))
	}
	got := claimIDs(t, s, "t", now.Add(time.Minute), 5)
	if len(got) != 1 || got[0].Event.ID != first[0].Event.ID || got[0].Attempt != 2 || got[0].Lease == first[0].Lease {
		t.Fatalf("after the lease ran out: %+v, want %s at attempt 2 with a new lease", got, first[0].Event.ID)
	}
	if _, _, err := s.Ack(ctx, first[0], delivered(first[0], now), now, time.Minute); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		t.Fatalf("the late holder's ack: %v, want CONFLICT", err)
	}
	if _, _, err := s.Ack(ctx, got[0], delivered(got[0], now), now, time.Minute); err != nil {
		t.Fatalf("the new holder's ack: %v", err)
	}
}

func webhookDisable(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	mustEnqueue(t, s, nil, hookJob("t", hookEvent("a", 1)), hookJob("t", hookEvent("a", 2)), hookJob("t", hookEvent("b", 3)), hookJob("u", hookEvent("a", 1)))
	claimed := claimIDs(t, s, "t", webhookT0.Add(time.Minute), 10)
	n, err := s.Disable(ctx, "t", "the target answered 410 Gone", webhookT0.Add(0))
	if err != nil || n != 3 {
		t.Fatalf("disable: dropped %d, %v; want 3", n, err)
	}
	st, _ := s.Target(ctx, "t")
	want := ivslive.WebhookTargetStatus{Name: "t", Disabled: true, DisabledAt: webhookT0.Add(0), DisabledReason: "the target answered 410 Gone"}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Fatalf("disabled target (-want +got):\n%s", diff)
	}
	if _, _, err := s.Ack(ctx, claimed[0], delivered(claimed[0], webhookT0.Add(0)), webhookT0.Add(0), time.Minute); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		t.Fatalf("ack of a dropped job: %v, want CONFLICT", err)
	}
	mustEnqueue(t, s, nil, hookJob("t", hookEvent("a", 4)), hookJob("u", hookEvent("a", 4)))
	if got := claimIDs(t, s, "t", webhookT0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("a disabled target got jobs: %v", ids(got))
	}
	if st, _ := s.Target(ctx, "u"); st.Queued != 2 || st.Disabled {
		t.Fatalf("the other target: %+v", st)
	}
	if err := s.Enable(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, nil, hookJob("t", hookEvent("a", 5)))
	if got := claimIDs(t, s, "t", webhookT0.Add(time.Hour), 10); len(got) != 1 || got[0].Event.ID != hookEvent("a", 5).ID {
		t.Fatalf("after enable: %v", ids(got))
	}
	if st, _ := s.Target(ctx, "never-seen"); st.Disabled || st.Queued != 0 || st.Name != "never-seen" {
		t.Fatalf("unknown target: %+v", st)
	}
}

func webhookArchive(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	var events []ivslive.WebhookEvent
	for i := 1; i <= 4; i++ {
		events = append(events, hookEvent("a", i))
	}
	mustEnqueue(t, s, events[:2])
	mustEnqueue(t, s, events[1:]) // event 2 again: archived once
	got, err := s.Event(ctx, events[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(events[3], got); diff != "" {
		t.Fatalf("archived event (-want +got):\n%s", diff)
	}
	if _, err := s.Event(ctx, events[0].ID); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Fatalf("the oldest event beyond the archive size: %v, want NOT_FOUND", err)
	}
	if _, err := s.Event(ctx, "msg_unknown"); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Fatalf("unknown event: %v, want NOT_FOUND", err)
	}
	rng, err := s.Events(ctx, events[1].Time, events[2].Time, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(events[1:3], rng); diff != "" {
		t.Fatalf("range, inclusive, oldest first (-want +got):\n%s", diff)
	}
	if rng, _ := s.Events(ctx, webhookT0.Add(0), webhookT0.Add(time.Hour), 2); len(rng) != 2 || rng[0].ID != events[1].ID {
		t.Fatalf("limited range: %v", rng)
	}
}

func webhookAttempts(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	for i := 1; i <= 6; i++ {
		target := "t"
		if i%2 == 0 {
			target = "u"
		}
		e := hookEvent("a", i)
		mustEnqueue(t, s, nil, hookJob(target, e))
		j := claimIDs(t, s, target, webhookT0.Add(time.Hour), 1)[0]
		a := delivered(j, e.Time)
		if i <= 2 { // two failures, then successes
			a.Outcome, a.Status, a.Error = ivslive.WebhookDropped, 0, fmt.Sprintf("failure %d", i)
		}
		if _, _, err := s.Ack(ctx, j, a, webhookT0.Add(time.Hour), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Attempts(ctx, ivslive.WebhookAttemptFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	last := hookJob("u", hookEvent("a", 6))
	last.Attempt = 1
	if len(all) != 3 || all[0].EventID != hookEvent("a", 6).ID || all[2].EventID != hookEvent("a", 4).ID {
		t.Fatalf("attempts log: %+v, want the 3 newest, newest first", all)
	}
	if diff := cmp.Diff(delivered(last, last.Event.Time), all[0]); diff != "" {
		t.Fatalf("logged attempt (-want +got):\n%s", diff)
	}
	failures, _ := s.Attempts(ctx, ivslive.WebhookAttemptFilter{Failures: true, Limit: 10})
	if len(failures) != 2 || failures[0].Error != "failure 2" || failures[1].Error != "failure 1" || failures[0].Outcome != ivslive.WebhookDropped {
		t.Fatalf("failures log: %+v, want both failures, kept past the log size", failures)
	}
	if u, _ := s.Attempts(ctx, ivslive.WebhookAttemptFilter{Target: "u", Limit: 1}); len(u) != 1 || u[0].Target != "u" {
		t.Fatalf("one attempt of u: %+v", u)
	}
}
