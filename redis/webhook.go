package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

// Webhooks is the webhook queue shared by every instance. It implements
// webhook.Store with these keys (prefix <p>):
//
//	<p>webhook:q:<target>:<stage>  STREAM one target's jobs for one stage, in
//	                                      order: id, type, time, body, enq
//	<p>webhook:due:<target>        ZSET   member stage, score the time its
//	                                      queue's head may next be claimed
//	<p>webhook:head:<target>       HASH   a:<stage> attempts at the head,
//	                                      l:<stage> lease of the claim in flight
//	<p>webhook:target:<target>     HASH   disabled, reason, delivered, failed,
//	                                      error, failing
//	<p>webhook:event               HASH   event id → type, time, stage, body
//	<p>webhook:events              ZSET   event id by time (the archive's index)
//	<p>webhook:attempts, :failures LIST   recent attempts (JSON), newest first
//	<p>webhook:seq                 STRING INCR source of lease tokens
//
// Why this shape: a stage's events must reach a target in order, one at a
// time, whichever instance delivers. So each (target, stage) has its own
// stream, and the due ZSET holds every non-empty one scored by when its
// head may be claimed. Claiming leases the head by pushing that score to
// now+lease, so no other instance sees the queue as due until the lease
// runs out (the holder died) or the holder acknowledges the job (the next
// one is due at once) or reschedules it (due after the backoff). The lease
// token, kept in the head hash, fences a holder that was too slow: its
// acknowledgement is refused rather than skipping the job another
// instance is delivering. A consumer group cannot express this ordering
// (it hands out entries, not queues), so the lease plays the part of
// XAUTOCLAIM's idle time. Every step is one script, and the queued count
// is the streams' length, never a separate counter.
type Webhooks struct {
	client               goredis.UniversalClient
	prefix               string
	archiveSize, logSize int
}

// NewWebhooks returns the queue under prefix, keeping the newest
// archiveSize events for replays and the newest logSize attempts (and
// failures).
func NewWebhooks(client goredis.UniversalClient, prefix string, archiveSize, logSize int) *Webhooks {
	return &Webhooks{client: client, prefix: prefix, archiveSize: archiveSize, logSize: logSize}
}

func (w *Webhooks) unavailable(op string, err error) error {
	return ivslive.WrapError(ivslive.EUNAVAILABLE, "webhook queue unavailable", fmt.Errorf("redis webhooks %s: %w", op, err))
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// Enqueue implements webhook.Store.
func (w *Webhooks) Enqueue(ctx context.Context, events []ivslive.WebhookEvent, jobs []ivslive.WebhookJob) error {
	args := make([]any, 0, 3+5*len(events)+7*len(jobs))
	args = append(args, w.prefix, w.archiveSize, len(events))
	for _, e := range events {
		args = append(args, e.ID, e.Type, ms(e.Time), e.StageARN, e.Payload)
	}
	for _, j := range jobs {
		e := j.Event
		args = append(args, j.Target, e.ID, e.Type, ms(e.Time), e.StageARN, e.Payload, ms(j.EnqueuedAt))
	}
	if err := webhookEnqueueScript.Run(ctx, w.client, nil, args...).Err(); err != nil {
		return w.unavailable("enqueue", err)
	}
	return nil
}

// Claim implements webhook.Store.
func (w *Webhooks) Claim(ctx context.Context, target string, now time.Time, lease time.Duration, max int) ([]ivslive.WebhookJob, error) {
	res, err := webhookClaimScript.Run(ctx, w.client, nil, w.prefix, target, now.UnixMilli(), lease.Milliseconds(), max).Slice()
	if err != nil {
		return nil, w.unavailable("claim", err)
	}
	var out []ivslive.WebhookJob
	for i := 0; i+9 <= len(res); i += 9 {
		out = append(out, claimed(target, res[i:i+9]))
	}
	return out, nil
}

// claimed reads one job as the claim function of the scripts returns it.
func claimed(target string, v []any) ivslive.WebhookJob {
	s := func(i int) string { x, _ := v[i].(string); return x }
	n := func(i int) int64 {
		if x, ok := v[i].(int64); ok {
			return x
		}
		x, _ := strconv.ParseInt(s(i), 10, 64)
		return x
	}
	return ivslive.WebhookJob{
		Target: target, ID: s(1), Attempt: int(n(2)), Lease: s(3), EnqueuedAt: time.UnixMilli(n(8)).UTC(),
		Event: ivslive.WebhookEvent{StageARN: s(0), ID: s(4), Type: s(5), Time: time.UnixMilli(n(6)).UTC(), Payload: []byte(s(7))},
	}
}

// attemptRecord is an attempt as the logs keep it.
type attemptRecord struct {
	Time     int64  `json:"t"`
	Target   string `json:"target"`
	EventID  string `json:"id"`
	Type     string `json:"type"`
	StageARN string `json:"stage"`
	Attempt  int    `json:"n"`
	Outcome  string `json:"outcome"`
	Status   int    `json:"status"`
	Error    string `json:"err"`
	Micros   int64  `json:"us"`
}

// attemptArgs are the logging arguments of ack and retry: the JSON
// (empty for a job given back untried), failed, time and error.
func attemptArgs(a ivslive.WebhookAttempt) []any {
	if a.EventID == "" {
		return []any{"", "0", "0", ""}
	}
	b, _ := json.Marshal(attemptRecord{Time: a.Time.UnixMilli(), Target: a.Target, EventID: a.EventID, Type: a.Type, StageARN: a.StageARN,
		Attempt: a.Attempt, Outcome: string(a.Outcome), Status: a.Status, Error: a.Error, Micros: a.Duration.Microseconds()})
	failed := "0"
	if a.Failed() {
		failed = "1"
	}
	return []any{b, failed, a.Time.UnixMilli(), a.Error}
}

func lost(j ivslive.WebhookJob) error {
	return ivslive.Errorf(ivslive.ECONFLICT, "webhook job %s for %s: the lease passed to another claimer", j.Event.ID, j.Target)
}

// Ack implements webhook.Store.
func (w *Webhooks) Ack(ctx context.Context, j ivslive.WebhookJob, a ivslive.WebhookAttempt, now time.Time, lease time.Duration) (ivslive.WebhookJob, bool, error) {
	args := append([]any{w.prefix, j.Target, j.Event.StageARN, j.ID, j.Lease, now.UnixMilli(), lease.Milliseconds(), w.logSize}, attemptArgs(a)...)
	res, err := webhookAckScript.Run(ctx, w.client, nil, args...).Slice()
	if err != nil {
		return ivslive.WebhookJob{}, false, w.unavailable("ack", err)
	}
	if len(res) == 0 || res[0] != int64(1) {
		return ivslive.WebhookJob{}, false, lost(j)
	}
	if len(res) < 10 {
		return ivslive.WebhookJob{}, false, nil
	}
	return claimed(j.Target, res[1:10]), true, nil
}

// Retry implements webhook.Store.
func (w *Webhooks) Retry(ctx context.Context, j ivslive.WebhookJob, a ivslive.WebhookAttempt, at time.Time) error {
	args := append([]any{w.prefix, j.Target, j.Event.StageARN, j.Lease, at.UnixMilli(), w.logSize}, attemptArgs(a)...)
	n, err := webhookRetryScript.Run(ctx, w.client, nil, args...).Int()
	if err != nil {
		return w.unavailable("retry", err)
	}
	if n != 1 {
		return lost(j)
	}
	return nil
}

// Disable implements webhook.Store.
func (w *Webhooks) Disable(ctx context.Context, target, reason string, at time.Time) (int, error) {
	n, err := webhookDisableScript.Run(ctx, w.client, nil, w.prefix, target, at.UnixMilli(), reason).Int()
	if err != nil {
		return 0, w.unavailable("disable", err)
	}
	return n, nil
}

// Enable implements webhook.Store.
func (w *Webhooks) Enable(ctx context.Context, target string) error {
	if err := w.client.HDel(ctx, w.prefix+"webhook:target:"+target, "disabled", "reason").Err(); err != nil {
		return w.unavailable("enable", err)
	}
	return nil
}

// Target implements webhook.Store.
func (w *Webhooks) Target(ctx context.Context, target string) (ivslive.WebhookTargetStatus, error) {
	st := ivslive.WebhookTargetStatus{Name: target}
	res, err := webhookTargetScript.Run(ctx, w.client, nil, w.prefix, target).Slice()
	if err != nil || len(res) != 7 {
		return st, w.unavailable("target", fmt.Errorf("%v (%d values)", err, len(res)))
	}
	s := func(i int) string { x, _ := res[i].(string); return x }
	t := func(i int) time.Time {
		n, err := strconv.ParseInt(s(i), 10, 64)
		if err != nil {
			return time.Time{}
		}
		return time.UnixMilli(n).UTC()
	}
	st.Disabled, st.DisabledAt, st.DisabledReason = s(0) != "", t(0), s(1)
	st.LastDelivered, st.LastFailed, st.LastError = t(2), t(3), s(4)
	st.Failing, _ = strconv.Atoi(s(5))
	st.Queued, _ = res[6].(int64)
	return st, nil
}

// archived reads an event as the archive hash stores it.
func archived(id, v string) (ivslive.WebhookEvent, error) {
	parts := strings.SplitN(v, "\n", 4)
	if len(parts) != 4 {
		return ivslive.WebhookEvent{}, fmt.Errorf("archived webhook event %s is malformed", id)
	}
	n, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return ivslive.WebhookEvent{}, fmt.Errorf("archived webhook event %s has a bad time: %w", id, err)
	}
	return ivslive.WebhookEvent{ID: id, Type: parts[0], Time: time.UnixMilli(n).UTC(), StageARN: parts[2], Payload: []byte(parts[3])}, nil
}

// Event implements webhook.Store.
func (w *Webhooks) Event(ctx context.Context, id string) (ivslive.WebhookEvent, error) {
	v, err := w.client.HGet(ctx, w.prefix+"webhook:event", id).Result()
	if errors.Is(err, goredis.Nil) {
		return ivslive.WebhookEvent{}, ivslive.Errorf(ivslive.ENOTFOUND, "webhook event %s is not in the archive", id)
	}
	if err != nil {
		return ivslive.WebhookEvent{}, w.unavailable("event", err)
	}
	return archived(id, v)
}

// Events implements webhook.Store.
func (w *Webhooks) Events(ctx context.Context, from, to time.Time, limit int) ([]ivslive.WebhookEvent, error) {
	ids, err := w.client.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: w.prefix + "webhook:events", ByScore: true,
		Start: ms(from), Stop: ms(to), Count: int64(limit)}).Result()
	if err != nil {
		return nil, w.unavailable("events", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := w.client.HMGet(ctx, w.prefix+"webhook:event", ids...).Result()
	if err != nil {
		return nil, w.unavailable("events", err)
	}
	out := make([]ivslive.WebhookEvent, 0, len(ids))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // trimmed between the two reads
		}
		e, err := archived(ids[i], s)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Attempts implements webhook.Store.
func (w *Webhooks) Attempts(ctx context.Context, f ivslive.WebhookAttemptFilter) ([]ivslive.WebhookAttempt, error) {
	key := w.prefix + "webhook:attempts"
	if f.Failures {
		key = w.prefix + "webhook:failures"
	}
	list, err := w.client.LRange(ctx, key, 0, int64(w.logSize)-1).Result()
	if err != nil {
		return nil, w.unavailable("attempts", err)
	}
	var out []ivslive.WebhookAttempt
	for _, s := range list {
		if len(out) >= f.Limit {
			break
		}
		var r attemptRecord
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			return nil, fmt.Errorf("webhook attempt log entry is malformed: %w", err)
		}
		if f.Target != "" && r.Target != f.Target {
			continue
		}
		out = append(out, ivslive.WebhookAttempt{Time: time.UnixMilli(r.Time).UTC(), Target: r.Target, EventID: r.EventID, Type: r.Type,
			StageARN: r.StageARN, Attempt: r.Attempt, Outcome: ivslive.WebhookOutcome(r.Outcome), Status: r.Status, Error: r.Error,
			Duration: time.Duration(r.Micros) * time.Microsecond})
	}
	return out, nil
}
