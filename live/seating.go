package live

import (
	"context"

	"github.com/ivslive/ivslive"
)

// seating returns the state a managed stage has in the presence store, which
// is what decides where viewers sit: viewers are seated automatically only
// where the host's media is. The master always takes viewers (before the
// host publishes they wait there, as with the Node server); a stage made by
// hand only when a request names it; an auto-scaled stage only while IVS
// reports its replication ACTIVE (hostMedia). Draining and deleted stages
// keep their state.
func seating(st ivslive.Stage, hostMedia bool) ivslive.StageState {
	switch {
	case st.State != ivslive.StageActive:
		return st.State
	case st.Master:
		return ivslive.StageActive
	case !st.AutoScaled:
		return ivslive.StageNamed
	case hostMedia:
		return ivslive.StageActive
	}
	return ivslive.StageNoHost
}

// takesViewers reports whether a presence state seats new viewers without
// a request naming the stage.
func takesViewers(state ivslive.StageState) bool { return state == ivslive.StageActive }

// storedState is the stage store's state for a presence state: the seating
// states are an active stage's.
func storedState(state ivslive.StageState) ivslive.StageState {
	if state == ivslive.StageNamed || state == ivslive.StageNoHost {
		return ivslive.StageActive
	}
	return state
}

// hostMedia reports whether the host's media reaches a stage: the master
// while IVS reports the host publishing, an auto-scaled stage while it is
// seated (its replication ACTIVE).
func hostMedia(st ivslive.Stage, state ivslive.StageState, hostPublishing bool) bool {
	if st.Master {
		return hostPublishing
	}
	return st.AutoScaled && state == ivslive.StageActive
}

// hostPublishing reports whether IVS has reported the live host publishing.
func (s *Service) hostPublishing(ctx context.Context) (bool, error) {
	pub, err := s.Presence.Publisher(ctx)
	if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
		return false, nil
	}
	return err == nil && pub.Publishing, err
}
