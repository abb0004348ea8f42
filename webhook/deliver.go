package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// storeTimeout bounds the store calls that end an attempt, which run even
// while the service stops (a delivered job must be acknowledged).
const storeTimeout = 5 * time.Second

// dispatch delivers one target's jobs until ctx ends: it claims as many
// due queues as it has free connections, and each worker delivers its
// queue's jobs one after the other while the store hands it the next.
func (s *Service) dispatch(ctx context.Context, t *target) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, t.MaxConns)
	failures := time.Duration(0)
	for ctx.Err() == nil {
		if free := cap(slots) - len(slots); free > 0 {
			jobs, err := s.store.Claim(ctx, t.Name, s.now(), s.cfg.Lease, free)
			if err != nil && ctx.Err() == nil {
				failures = min(max(2*failures, 100*time.Millisecond), 10*time.Second)
				s.log.Error("could not claim webhook jobs; retrying", "target", t.Name, "retry_in", failures, "err", err)
				sleep(ctx, failures)
				continue
			}
			failures = 0
			for _, j := range jobs {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() { <-slots; t.poke() }()
					s.work(ctx, t, j)
				})
			}
			if len(jobs) == free {
				continue // there may be more due
			}
		}
		wait := s.cfg.Poll
		if next := t.next.Swap(0); next != 0 {
			wait = min(wait, max(0, time.Until(time.Unix(0, next))))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// work delivers a claimed job and, while the store hands it the next job
// of the same queue, that one too.
func (s *Service) work(ctx context.Context, t *target, j ivslive.WebhookJob) {
	for {
		a, gone := s.attempt(ctx, t, j)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		next, more, err := s.settle(sctx, t, j, a, gone)
		cancel()
		if err != nil {
			if ivslive.ErrorCode(err) == ivslive.ECONFLICT {
				s.log.Debug("webhook job reclaimed by another instance", "target", t.Name, "event", j.Event.ID)
			} else {
				// The lease runs out and the job is attempted again: a
				// duplicate at worst, never a loss.
				s.log.Error("could not record a webhook attempt; the job will be attempted again", "target", t.Name, "event", j.Event.ID, "err", err)
			}
			return
		}
		if !more || ctx.Err() != nil {
			if more { // stopping: give the next job back at once
				s.release(t, next)
			}
			return
		}
		j = next
	}
}

// settle records an attempt's outcome in the store: acknowledged when
// delivered or given up, rescheduled otherwise.
func (s *Service) settle(ctx context.Context, t *target, j ivslive.WebhookJob, a ivslive.WebhookAttempt, gone bool) (ivslive.WebhookJob, bool, error) {
	now := s.now()
	if a.Outcome == "" { // failed: retry, unless too old or stopping
		switch at := now.Add(s.cfg.Backoff.Delay(j.Attempt)); {
		case a.Error == errStopping: // give it back untried, due at once
			return ivslive.WebhookJob{}, false, s.store.Retry(ctx, j, ivslive.WebhookAttempt{}, now)
		case at.After(j.EnqueuedAt.Add(s.cfg.MaxAge)):
			a.Outcome = ivslive.WebhookDropped
			a.Error += fmt.Sprintf(" (given up: queued %s ago, WEBHOOK_MAX_AGE %s)", now.Sub(j.EnqueuedAt).Round(time.Second), s.cfg.MaxAge)
			s.obs.Dropped(t.Name, "expired", 1)
		default:
			a.Outcome = ivslive.WebhookRetrying
			s.obs.Attempted(t.Name, a.Outcome, a.Duration)
			if err := s.store.Retry(ctx, j, a, at); err != nil {
				return ivslive.WebhookJob{}, false, err
			}
			t.scheduled(at)
			return ivslive.WebhookJob{}, false, nil
		}
	}
	s.obs.Attempted(t.Name, a.Outcome, a.Duration)
	next, more, err := s.store.Ack(ctx, j, a, now, s.cfg.Lease)
	if err != nil || !gone {
		return next, more, err
	}
	n, err := s.store.Disable(ctx, t.Name, "the target answered 410 Gone", now)
	s.log.Warn("webhook target answered 410 Gone: disabled until an admin enables it again", "target", t.Name, "dropped", n+1)
	s.obs.Dropped(t.Name, "gone", n+1) // the queued jobs and this one
	return ivslive.WebhookJob{}, false, err
}

// release gives a claimed job back without an attempt, due at once.
func (s *Service) release(t *target, j ivslive.WebhookJob) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := s.store.Retry(ctx, j, ivslive.WebhookAttempt{}, s.now()); err != nil && ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		s.log.Warn("could not give back a webhook job at shutdown; it is taken again when its lease ends", "target", t.Name, "err", err)
	}
}

// scheduled notes a retry this instance scheduled, so the dispatcher wakes
// for it.
func (t *target) scheduled(at time.Time) {
	n := at.UnixNano()
	for {
		cur := t.next.Load()
		if (cur != 0 && cur <= n) || t.next.CompareAndSwap(cur, n) {
			t.poke()
			return
		}
	}
}

// errStopping marks an attempt cut short by the service stopping: the job
// is given back untried.
const errStopping = "not attempted: the instance was stopping"

// attempt sends one job once. It returns the attempt with Outcome
// WebhookDelivered (2xx) or WebhookDropped (410 Gone, which also reports
// gone), or with no outcome for a failure the caller decides about.
func (s *Service) attempt(ctx context.Context, t *target, j ivslive.WebhookJob) (a ivslive.WebhookAttempt, gone bool) {
	start := s.now()
	a = ivslive.WebhookAttempt{Time: start, Target: t.Name, EventID: j.Event.ID, Type: j.Event.Type, StageARN: j.Event.StageARN, Attempt: j.Attempt}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL.String(), bytes.NewReader(j.Event.Payload))
	if err != nil {
		a.Error = err.Error()
		return a, false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set(HeaderID, j.Event.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(start.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(j.Event.ID, start, j.Event.Payload, t.Secrets))
	began := time.Now()
	resp, err := t.client.Do(req)
	if err == nil {
		// Read a little of the answer so the connection can be reused.
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	a.Duration = time.Since(began)
	switch {
	case resp != nil && resp.StatusCode >= 200 && resp.StatusCode < 300:
		a.Status, a.Outcome = resp.StatusCode, ivslive.WebhookDelivered
	case ctx.Err() != nil:
		a.Error = errStopping
	case resp == nil:
		a.Error = describe(err, t.Timeout)
	case resp.StatusCode == http.StatusGone:
		a.Status, a.Outcome, a.Error = resp.StatusCode, ivslive.WebhookDropped, "410 Gone: the target is disabled"
		return a, true
	default:
		a.Status, a.Error = resp.StatusCode, "answered "+resp.Status
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			a.Error += " (redirects are not followed)"
		}
	}
	return a, false
}

// describe turns a client error into a short text for the attempts log,
// without the URL (it may hold credentials).
func describe(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Sprintf("no answer within %s", timeout)
		}
		err = ue.Err
	}
	return err.Error()
}
