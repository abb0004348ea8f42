package ivs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"

	"github.com/ivslive/ivslive"
)

// defaultQuotas are IVS's API rate quotas per account and region (calls per
// second, not adjustable), keyed by operation name. One table serves both
// clients: the low-latency service's operations (channels, playback keys)
// are named apart from the real-time service's, except the tag operations,
// which ivslive calls on stages only. The replication operations and the
// playback key pair operations are not in the tables read; 5 TPS, like
// their neighbours, is assumed.
var defaultQuotas = map[string]float64{
	// Real-Time: compositions and encoder configurations, 5 TPS each.
	"StartComposition":           5,
	"GetComposition":             5,
	"StopComposition":            5,
	"ListCompositions":           5,
	"CreateEncoderConfiguration": 5,
	"GetEncoderConfiguration":    5,
	"DeleteEncoderConfiguration": 5,
	// Low-latency: channels 5 TPS each (playback keys assumed alike).
	"CreateChannel":         5,
	"GetChannel":            5,
	"ListChannels":          5,
	"DeleteChannel":         5,
	"ImportPlaybackKeyPair": 5,
	"GetPlaybackKeyPair":    5,

	"CreateParticipantToken":      50,
	"CreateStage":                 5,
	"DeleteStage":                 5,
	"DisconnectParticipant":       5,
	"GetStage":                    5,
	"ListStages":                  5,
	"ListParticipants":            5,
	"UpdateStage":                 5,
	"StartParticipantReplication": 5,
	"StopParticipantReplication":  5,
	"ListParticipantReplicas":     5,
	"ImportPublicKey":             3,
	"GetPublicKey":                3,
	"ListPublicKeys":              3,
	"DeletePublicKey":             3,
	"TagResource":                 10,
	"UntagResource":               10,
	"ListTagsForResource":         10,
}

// sharedKeyPrefix names an operation's budget in the shared limiter.
const sharedKeyPrefix = "ivs-quota:"

// pacer spends each operation's quota before every attempt (the SDK's
// retries included: AWS counts each one), waiting for a turn rather than
// being throttled by AWS, up to a deadline. A token bucket per operation
// keeps this process within the quota; the shared limiter, when set, keeps
// every instance together within it, since the quotas are per account and
// region, not per process.
type pacer struct {
	limiters map[string]*rate.Limiter
	limits   map[string]ivslive.RateLimit
	timeout  time.Duration
	shared   ivslive.RateLimiter
	// onSharedError counts a call paced by this process alone because the
	// shared limiter failed.
	onSharedError func(op string)
	log           *slog.Logger
	sharedDown    atomic.Bool // the last shared check failed (logged once)
}

func newPacer(overrides map[string]float64, timeout time.Duration, shared ivslive.RateLimiter, onSharedError func(string), log *slog.Logger) *pacer {
	p := &pacer{
		limiters: make(map[string]*rate.Limiter, len(defaultQuotas)),
		limits:   make(map[string]ivslive.RateLimit, len(defaultQuotas)),
		timeout:  timeout, shared: shared, onSharedError: onSharedError, log: log,
	}
	for op, tps := range defaultQuotas {
		if v, ok := overrides[op]; ok {
			tps = v
		}
		limit := quotaLimit(tps)
		p.limits[op] = limit
		p.limiters[op] = rate.NewLimiter(rate.Limit(tps), limit.Requests)
	}
	return p
}

// quotaLimit expresses calls per second as whole requests per period, with
// the same burst as the local bucket: max(1, the whole calls per second).
func quotaLimit(tps float64) ivslive.RateLimit {
	n := max(1, int(tps))
	return ivslive.RateLimit{Requests: n, Period: time.Duration(float64(n) / tps * float64(time.Second))}
}

// wait takes one turn of op's quota, or fails with SERVICE_UNAVAILABLE when
// none comes before the pace deadline (or ctx's, if sooner).
func (p *pacer) wait(ctx context.Context, op string) error {
	l, ok := p.limiters[op]
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	for {
		// The local bucket first: it also bounds how often this process
		// asks the shared limiter while the shared budget is spent.
		if err := l.Wait(ctx); err != nil {
			return busy(op, err)
		}
		if p.shared == nil {
			return nil
		}
		d, err := p.shared.Allow(ctx, []string{sharedKeyPrefix + op}, p.limits[op])
		if err != nil {
			if ctx.Err() != nil {
				return busy(op, ctx.Err())
			}
			p.sharedFailed(op, err)
			return nil // paced by this process alone
		}
		p.sharedWorks()
		if d.Allowed {
			return nil
		}
		if err := sleep(ctx, d.RetryAfter); err != nil {
			return busy(op, err)
		}
	}
}

func (p *pacer) sharedFailed(op string, err error) {
	if p.onSharedError != nil {
		p.onSharedError(op)
	}
	if !p.sharedDown.Swap(true) {
		p.log.Warn("the shared IVS rate budget is unavailable; pacing IVS calls by this instance alone, so several instances together may exceed the quota", "op", op, "err", err)
	}
}

func (p *pacer) sharedWorks() {
	if p.sharedDown.Swap(false) {
		p.log.Info("the shared IVS rate budget is back")
	}
}

// busy is the error of a call that got no turn in time. The pacer's own
// errors are marked not retryable, so the SDK's retryer gives up at once.
func busy(op string, err error) error {
	return notRetryable{ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS rate quota busy, try again",
		fmt.Errorf("pace %s: %w", op, err))}
}

// notRetryable tells the SDK's retryer (retry.RetryableError) not to retry.
type notRetryable struct{ error }

func (notRetryable) RetryableError() bool { return false }
func (e notRetryable) Unwrap() error      { return e.error }

func sleep(ctx context.Context, d time.Duration) error {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return errors.New("the next turn would come after the deadline")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// middleware paces every attempt of every operation: it runs in the SDK's
// finalize step after the retry middleware, so once per attempt, and before
// signing, so a wait never ages a signature.
func (p *pacer) middleware(stack *middleware.Stack) error {
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("ivslivePace",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if err := p.wait(ctx, middleware.GetOperationName(ctx)); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleFinalize(ctx, in)
		}), "Retry", middleware.After)
}
