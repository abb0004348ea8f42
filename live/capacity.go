package live

import (
	"context"

	"github.com/ivslive/ivslive"
)

// checkSubscriptions refuses a new seat past the account's quota of
// concurrent subscriptions (MaxSubscriptions): IVS would refuse the viewer's
// subscription anyway, with nothing to tell the viewer why. The count is the
// seats after the join, so the join that passes the quota gives its seat back.
func (s *Service) checkSubscriptions(ctx context.Context) error {
	if s.Config.MaxSubscriptions <= 0 {
		return nil
	}
	loads, err := s.Presence.Loads(ctx)
	if err != nil {
		return err
	}
	total := 0
	for _, l := range loads {
		total += l.Viewers
	}
	if total <= s.Config.MaxSubscriptions {
		return nil
	}
	return ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RSubscriptionsQuota, s.Config.MaxSubscriptions).
		WithDetails(map[string]any{"reason": "subscriptions_quota", "quota": s.Config.MaxSubscriptions,
			"hint": "raise the concurrent-subscriptions quota with AWS, then MAX_CONCURRENT_SUBSCRIPTIONS"})
}

// poolFull explains a join that found no seat: every stage with the host's
// media is full, and says how many stages wait for it (an auto-scaled stage
// whose replication is not ACTIVE) and why the pool cannot grow.
func (s *Service) poolFull(ctx context.Context, full error) error {
	st, err := s.Stats(ctx)
	if err != nil {
		return full
	}
	seated, waiting := 0, 0
	for _, v := range st.Stages {
		switch {
		case v.State != ivslive.StageActive:
		case v.Master || v.AutoScaled && v.HostMedia:
			seated++
		case v.AutoScaled:
			waiting++
		}
	}
	details := map[string]any{"reason": "stages_full", "stagesWithHost": seated, "stagesWaitingForHost": waiting,
		"maxViewersPerStage": s.Config.Capacity}
	if st.ScalingBlocker != "" {
		details["scalingBlocker"] = st.ScalingBlocker
	}
	return ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RStagesFull, seated, s.Config.Capacity).WithDetails(details)
}
