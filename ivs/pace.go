package ivs

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/ivslive/ivslive"
)

// defaultQuotas are IVS Real-Time's API rate quotas per account and region
// (calls per second, not adjustable). The replication operations are not in
// the published table; 5 TPS, like the other stage operations, is assumed.
var defaultQuotas = map[string]float64{
	"CreateParticipantToken":      50,
	"CreateStage":                 5,
	"DeleteStage":                 5,
	"DisconnectParticipant":       5,
	"GetStage":                    5,
	"ListStages":                  5,
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

// pacer keeps one token bucket per operation. A call waits for its turn
// rather than being throttled by AWS, up to a deadline.
type pacer struct {
	limiters map[string]*rate.Limiter
	timeout  time.Duration
}

func newPacer(overrides map[string]float64, timeout time.Duration) *pacer {
	p := &pacer{limiters: make(map[string]*rate.Limiter, len(defaultQuotas)), timeout: timeout}
	for op, tps := range defaultQuotas {
		if v, ok := overrides[op]; ok {
			tps = v
		}
		burst := int(tps)
		if burst < 1 {
			burst = 1
		}
		p.limiters[op] = rate.NewLimiter(rate.Limit(tps), burst)
	}
	return p
}

func (p *pacer) wait(ctx context.Context, op string) error {
	l, ok := p.limiters[op]
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		return ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS rate quota busy, try again",
			fmt.Errorf("pace %s: %w", op, err))
	}
	return nil
}
