package live

import (
	"context"
	"fmt"
	"time"

	"github.com/ivslive/ivslive"
)

// CreateStage creates a managed stage in IVS and records it.
func (s *Service) CreateStage(ctx context.Context, name string, userTags map[string]string, autoScaled bool) (ivslive.Stage, error) {
	if name == "" {
		return ivslive.Stage{}, ivslive.ReasonError(ivslive.EVALIDATION, ivslive.RMissingField, "name").WithDetails(map[string]any{"missingFields": []string{"name"}})
	}
	if !ivslive.ValidStageName(name) {
		return ivslive.Stage{}, ivslive.Errorf(ivslive.EVALIDATION, "name must be 1–128 characters of A–Z, a–z, 0–9, - and _")
	}
	if err := validateTags(userTags); err != nil {
		return ivslive.Stage{}, err
	}
	// A quick look first spares IVS a create when the pool is plainly full;
	// the store's CreateStage is the atomic check that concurrent creates,
	// on any instance, never pass.
	_, _, total, err := s.Stages.FindStages(ctx, ivslive.StageFilter{Limit: 1})
	if err != nil {
		return ivslive.Stage{}, err
	}
	if total >= s.Config.MaxStages {
		return ivslive.Stage{}, s.stageLimit()
	}
	created, err := s.IVS.CreateStage(ctx, ivslive.CreateStageInput{Name: name, Tags: s.tags(userTags, autoScaled)})
	if err != nil {
		return ivslive.Stage{}, err
	}
	now := s.now()
	created.State, created.AutoScaled, created.CreatedAt, created.UpdatedAt = ivslive.StageActive, autoScaled, now, now
	if err := s.Stages.CreateStage(ctx, created, s.Config.MaxStages); err != nil {
		// Without a record the stage would be an orphan that costs money.
		if derr := s.IVS.DeleteStage(context.WithoutCancel(ctx), created.ARN); derr != nil {
			s.Log.Error("stage created but neither recorded nor deleted", "arn", created.ARN, "err", derr)
		}
		if ivslive.ErrorCode(err) == ivslive.ESTAGELIMIT {
			return ivslive.Stage{}, s.stageLimit()
		}
		return ivslive.Stage{}, err
	}
	if err := s.Presence.PutStage(ctx, created.ARN, seating(created, false)); err != nil {
		return ivslive.Stage{}, err
	}
	s.remember(created)
	s.Log.Info("stage created", "arn", created.ARN, "name", name, "autoScaled", autoScaled)
	s.emit(ctx, ivslive.Event{Type: ivslive.EventStageCreated, StageARN: created.ARN, Viewers: count(0)})
	return created, nil
}

func (s *Service) stageLimit() error {
	return ivslive.ReasonError(ivslive.ESTAGELIMIT, ivslive.RStageLimit, s.Config.MaxStages)
}

// GetStage returns a stage as IVS has it now (active session included),
// merged with what ivslive records about it, and its live viewer count.
func (s *Service) GetStage(ctx context.Context, arn string) (ivslive.Stage, int, error) {
	live, err := s.IVS.GetStage(ctx, arn)
	if err != nil {
		return ivslive.Stage{}, 0, err
	}
	st, err := s.managed(ctx, arn)
	switch ivslive.ErrorCode(err) {
	case "":
		st.Name, st.ActiveSessionID, st.Tags, st.Endpoints, st.Recording = live.Name, live.ActiveSessionID, live.Tags, live.Endpoints, live.Recording
	case ivslive.ENOTFOUND:
		st = live
	default:
		return ivslive.Stage{}, 0, err
	}
	n, err := s.viewerCount(ctx, arn)
	return st, n, err
}

// UpdateStage renames a managed stage.
func (s *Service) UpdateStage(ctx context.Context, arn, name string) (ivslive.Stage, error) {
	if !ivslive.ValidStageName(name) {
		return ivslive.Stage{}, ivslive.Errorf(ivslive.EVALIDATION, "name must be at most 128 characters of A–Z, a–z, 0–9, - and _")
	}
	st, err := s.managed(ctx, arn)
	if err != nil {
		return ivslive.Stage{}, err
	}
	live, err := s.IVS.UpdateStage(ctx, arn, name)
	if err != nil {
		return ivslive.Stage{}, err
	}
	st.Name, st.ActiveSessionID, st.Tags, st.Endpoints, st.Recording = live.Name, live.ActiveSessionID, live.Tags, live.Endpoints, live.Recording
	if err := s.saveStage(ctx, st); err != nil {
		return ivslive.Stage{}, err
	}
	return st, nil
}

// DeleteStage deletes a managed stage: it stops assigning viewers to it,
// stops its replication, deletes it in IVS and closes the sessions left on it
// as stage_deleted. Without force, a stage with viewers is refused.
func (s *Service) DeleteStage(ctx context.Context, arn string, force bool) error {
	if arn == s.MasterARN() {
		return ivslive.ReasonError(ivslive.EFORBIDDEN, ivslive.RMasterStage)
	}
	st, err := s.managed(ctx, arn)
	if err != nil {
		return err
	}
	if n, err := s.viewerCount(ctx, arn); err != nil {
		return err
	} else if n > 0 && !force {
		return ivslive.ReasonError(ivslive.EVALIDATION, ivslive.RStageHasViewers).WithDetails(map[string]any{"viewerCount": n})
	}
	return s.removeStage(ctx, st, "deleted by API")
}

// removeStage is the one way a managed stage goes away, for the API and the
// scaler alike.
func (s *Service) removeStage(ctx context.Context, st ivslive.Stage, why string) error {
	if err := s.Presence.PutStage(ctx, st.ARN, ivslive.StageDraining); err != nil {
		return err
	}
	if r := st.Replication; r != nil {
		if err := s.IVS.StopReplication(ctx, *r); err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
			return err
		}
		st.Replication = nil
	}
	if err := s.IVS.DeleteStage(ctx, st.ARN); err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		return err
	}
	st.State, st.UpdatedAt = ivslive.StageDeleted, s.now()
	if err := s.Stages.SaveStage(ctx, st); err != nil {
		return err
	}
	s.forget(st.ARN)
	closed, err := s.Presence.RemoveStage(ctx, st.ARN, s.now())
	if err != nil {
		return err
	}
	s.Log.Info("stage deleted", "arn", st.ARN, "why", why, "viewersClosed", len(closed))
	s.emitClosed(ctx, closed, ivslive.EndStageDeleted)
	s.emit(ctx, ivslive.Event{Type: ivslive.EventStageDeleted, StageARN: st.ARN, Count: len(closed), Reason: why})
	return nil
}

// ListStages returns one page of managed stages with their viewer counts.
func (s *Service) ListStages(ctx context.Context, after string, limit int) ([]StageView, string, int, error) {
	page, next, total, err := s.Stages.FindStages(ctx, ivslive.StageFilter{After: after, Limit: limit})
	if err != nil {
		return nil, "", 0, err
	}
	loads, err := s.Presence.Loads(ctx)
	if err != nil {
		return nil, "", 0, err
	}
	publishing, err := s.hostPublishing(ctx)
	if err != nil {
		return nil, "", 0, err
	}
	byARN := make(map[string]ivslive.StageLoad, len(loads))
	for _, l := range loads {
		byARN[l.ARN] = l
	}
	views := make([]StageView, len(page))
	for i, st := range page {
		l := byARN[st.ARN]
		st.HostMedia = hostMedia(st, l.State, publishing)
		views[i] = StageView{Stage: st, Viewers: l.Viewers}
	}
	return views, next, total, nil
}

// StageView is a managed stage with its live viewer count (heartbeats).
// Stats adds IVS's view; the pointers are nil where it is unknown.
type StageView struct {
	ivslive.Stage
	Viewers int
	// IVSConnected is how many viewers IVS reports connected (Attendance's
	// latest fresh round).
	IVSConnected *int
	// WithoutHost is how many viewers are seated while the stage lacks the
	// host's media (Stage.HostMedia).
	WithoutHost *int
}

// Drift is Viewers minus IVSConnected: positive for viewers who heartbeat
// without being connected (no WebRTC, or a page that died and has not
// timed out), negative for connected viewers who do not heartbeat.
func (v StageView) Drift() *int {
	if v.IVSConnected == nil {
		return nil
	}
	d := v.Viewers - *v.IVSConnected
	return &d
}

// MasterStage returns the master stage as IVS has it and its viewer count.
func (s *Service) MasterStage(ctx context.Context) (ivslive.Stage, int, error) {
	arn := s.MasterARN()
	if arn == "" {
		return ivslive.Stage{}, 0, ivslive.ReasonError(ivslive.EUNAVAILABLE, ivslive.RMasterNotReady)
	}
	return s.GetStage(ctx, arn)
}

func (s *Service) viewerCount(ctx context.Context, arn string) (int, error) {
	counts, err := s.counts(ctx)
	return counts[arn], err
}

func (s *Service) counts(ctx context.Context) (map[string]int, error) {
	loads, err := s.Presence.Loads(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]int, len(loads))
	for _, l := range loads {
		m[l.ARN] = l.Viewers
	}
	return m, nil
}

// setState moves a managed stage between active and draining, in the store
// and in assignment.
func (s *Service) setState(ctx context.Context, st ivslive.Stage, state ivslive.StageState) error {
	st.State = state
	st.DrainingSince = time.Time{}
	if state == ivslive.StageDraining {
		st.DrainingSince = s.now()
	}
	if err := s.saveStage(ctx, st); err != nil {
		return err
	}
	// A reactivated auto-scaled stage takes viewers again once the scaler
	// sees its replication ACTIVE.
	if err := s.Presence.PutStage(ctx, st.ARN, seating(st, false)); err != nil {
		return err
	}
	typ := ivslive.EventStageActive
	if state == ivslive.StageDraining {
		typ = ivslive.EventStageDraining
	}
	s.emit(ctx, ivslive.Event{Type: typ, StageARN: st.ARN})
	return nil
}

// saveStage records a managed stage and refreshes the catalog.
func (s *Service) saveStage(ctx context.Context, st ivslive.Stage) error {
	st.UpdatedAt = s.now()
	if err := s.Stages.SaveStage(ctx, st); err != nil {
		return err
	}
	s.remember(st)
	return nil
}

// growBlocker says why the pool cannot get another auto-scaled stage, or "".
// otherReplicas counts the host's replications into stages that are not
// auto-scaled (started through the API): IVS's quota of concurrent
// replications per participant counts them too.
func (s *Service) growBlocker(stages []ivslive.Stage, autoScaled int, publisherLive bool, otherReplicas int) string {
	switch {
	case !s.Config.AutoScale:
		return "auto-scaling is disabled (AUTO_SCALE_ENABLED=false)"
	case len(stages) >= s.Config.MaxStages:
		return fmt.Sprintf("MAX_STAGES (%d) reached", s.Config.MaxStages)
	case autoScaled+otherReplicas >= s.Config.MaxReplicas:
		return fmt.Sprintf("the publisher can be replicated into at most %d stages (IVS quota); raise MAX_VIEWERS_PER_STAGE instead", s.Config.MaxReplicas)
	case !publisherLive:
		return "no live publisher to replicate into a new stage"
	}
	return ""
}
