package live

import (
	"context"
	"strings"

	"github.com/ivslive/ivslive"
)

// Stats is the live picture: counts per stage, read from the presence store
// in O(stages), never by listing viewers.
type Stats struct {
	// TotalViewers counts real-time viewers (seated on stages);
	// PlaybackViewers those watching the channel (zero when playback is
	// off). Capacity and quotas concern the first only.
	TotalViewers    int
	PlaybackViewers int
	Playback        PlaybackStatus
	Stages          []StageView
	PublisherLive   bool
	Publisher       *ivslive.Publisher
	DrainingStages  int
	AutoScaled      int
	CapacityLeft    int
	// ScalingBlocker says why the pool could not grow now, or "".
	ScalingBlocker string
	// IVSConnected sums the stages' IVSConnected (nil when none is
	// known); Drift is TotalViewers minus it, over those stages.
	IVSConnected *int
	Drift        *int
	// WithoutHost sums the stages' WithoutHost (nil when none is known).
	WithoutHost *int
}

// Stats returns the live counts of every managed stage.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	loads, err := s.Presence.Loads(ctx)
	if err != nil {
		return Stats{}, err
	}
	ivs, err := s.freshIVSCounts(ctx)
	if err != nil {
		return Stats{}, err
	}
	var st Stats
	for _, l := range loads {
		stage, err := s.managed(ctx, l.ARN)
		if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
			continue // deleted meanwhile by another instance
		}
		if err != nil {
			return Stats{}, err
		}
		stage.State = storedState(l.State)
		stage.HostMedia = hostMedia(stage, l.State, false)
		v := StageView{Stage: stage, Viewers: l.Viewers}
		s.addAttendance(&st, &v, ivs)
		st.Stages = append(st.Stages, v)
		if stage.AutoScaled {
			st.AutoScaled++
		}
		st.TotalViewers += l.Viewers
		if l.State == ivslive.StageDraining {
			st.DrainingStages++
		} else if room := s.Config.Capacity - l.Viewers; room > 0 && takesViewers(l.State) {
			st.CapacityLeft += room
		}
	}
	pub, err := s.Presence.Publisher(ctx)
	switch ivslive.ErrorCode(err) {
	case "":
		st.PublisherLive, st.Publisher = true, &pub
	case ivslive.ENOTFOUND:
	default:
		return Stats{}, err
	}
	for i := range st.Stages {
		if st.Stages[i].Master {
			st.Stages[i].HostMedia = st.PublisherLive && pub.Publishing
		}
	}
	countWithoutHost(&st)
	all := make([]ivslive.Stage, len(st.Stages))
	for i, v := range st.Stages {
		all[i] = v.Stage
	}
	st.ScalingBlocker = s.growBlocker(all, st.AutoScaled, st.PublisherLive, 0)
	if st.Playback, err = s.PlaybackStatus(ctx); err != nil {
		return Stats{}, err
	}
	st.PlaybackViewers = st.Playback.Viewers
	return st, nil
}

// StageByID finds a managed stage by its short id (the ARN's last segment).
func (s *Service) StageByID(ctx context.Context, id string) (StageView, error) {
	if strings.ContainsRune(id, ':') {
		return StageView{}, ivslive.ReasonError(ivslive.EVALIDATION, ivslive.RShortStageID).
			WithDetails(map[string]any{"hint": "GET /api/stats/stages?arn=<id>"})
	}
	st, err := s.Stats(ctx)
	if err != nil {
		return StageView{}, err
	}
	for _, v := range st.Stages {
		if v.ID() == id {
			return v, nil
		}
	}
	return StageView{}, ivslive.NotFound(ivslive.RStage)
}
