package live

import (
	"context"
	"fmt"
	"time"

	"github.com/ivslive/ivslive"
)

// DriftInterval is how often the leader's scaler compares the stage pool
// with IVS's list of stages: a ListStages page per 100 stages, so rarely.
const DriftInterval = 5 * time.Minute

// drift runs checkDrift every DriftInterval.
func (sc *Scaler) drift(ctx context.Context) {
	sc.driftMu.Lock()
	defer sc.driftMu.Unlock()
	now := sc.Service.now()
	if now.Sub(sc.lastDrift) < DriftInterval {
		return
	}
	if err := sc.checkDrift(ctx); err != nil {
		sc.Service.Log.Warn("could not compare the stage pool with IVS; will retry", "err", err)
		return
	}
	sc.lastDrift = now
}

// checkDrift brings the pool and IVS back together. A stage tagged
// ManagedBy=ivslive for this environment that the store does not know (a
// crash between CreateStage in IVS and the save, or a delete in IVS that
// failed) is an orphan once it is seen in two checks in a row, so a create
// in flight on another instance is never taken for one: an auto-scaled
// orphan is deleted (the scaler makes what it needs), one made by hand is
// adopted as a hand-made stage while MAX_STAGES allows, else deleted. A
// managed stage that IVS no longer has (deleted outside ivslive) leaves the
// pool, its viewers closed as stage_deleted. The master is Bootstrap's.
func (sc *Scaler) checkDrift(ctx context.Context) error {
	s := sc.Service
	inIVS, err := s.allIVSStages(ctx)
	if err != nil {
		return err
	}
	known, _, _, err := s.Stages.FindStages(ctx, ivslive.StageFilter{IncludeDeleted: true})
	if err != nil {
		return err
	}
	recorded := make(map[string]ivslive.Stage, len(known))
	live := 0
	for _, st := range known {
		recorded[st.ARN] = st
		if st.State != ivslive.StageDeleted {
			live++
		}
	}
	for _, st := range known {
		if _, ok := inIVS[st.ARN]; ok || st.Master || st.State == ivslive.StageDeleted {
			continue
		}
		// Not listed: make sure it is gone, not just created after the list.
		if _, err := s.IVS.GetStage(ctx, st.ARN); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
			continue
		}
		if err := s.removeStage(ctx, st, "deleted outside ivslive"); err != nil {
			return err
		}
		live--
	}
	seen := map[string]bool{}
	for arn, sum := range inIVS {
		if st, ok := recorded[arn]; ok && st.State != ivslive.StageDeleted || !s.ours(sum.Tags) || arn == s.MasterARN() {
			continue
		}
		seen[arn] = true
		if !sc.orphans[arn] {
			continue // first sighting: decide at the next check
		}
		_, wasRecorded := recorded[arn]
		if sum.Tags[TagAutoScaled] != "true" && !wasRecorded && live < s.Config.MaxStages {
			if err := s.adoptStage(ctx, arn); err != nil {
				return err
			}
			live++
			continue
		}
		if err := s.IVS.DeleteStage(ctx, arn); err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
			return fmt.Errorf("delete orphan stage %s: %w", arn, err)
		}
		s.Log.Warn("deleted a stage tagged as ivslive's that the store does not know", "arn", arn, "name", sum.Name)
	}
	sc.orphans = seen
	return nil
}

// ours reports whether tags mark a stage this deployment created.
func (s *Service) ours(tags map[string]string) bool {
	return tags[TagManagedBy] == ManagedByValue && tags[TagEnvironment] == s.Config.Environment
}

// allIVSStages lists every stage in the account and region, by ARN.
func (s *Service) allIVSStages(ctx context.Context) (map[string]ivslive.StageSummary, error) {
	all := map[string]ivslive.StageSummary{}
	next := ""
	for {
		page, token, err := s.IVS.ListStages(ctx, next, 100)
		if err != nil {
			return nil, err
		}
		for _, sum := range page {
			all[sum.ARN] = sum
		}
		if token == "" {
			return all, nil
		}
		next = token
	}
}

// adoptStage records a stage ivslive made by hand whose record was lost.
func (s *Service) adoptStage(ctx context.Context, arn string) error {
	st, err := s.IVS.GetStage(ctx, arn)
	if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.now()
	st.State, st.CreatedAt, st.UpdatedAt = ivslive.StageActive, now, now
	if err := s.Stages.SaveStage(ctx, st); err != nil {
		return err
	}
	if err := s.Presence.PutStage(ctx, arn, seating(st, false)); err != nil {
		return err
	}
	s.remember(st)
	s.Log.Warn("adopted a stage tagged as ivslive's that the store did not know", "arn", arn, "name", st.Name)
	s.emit(ctx, ivslive.Event{Type: ivslive.EventStageCreated, StageARN: arn, Viewers: count(0)})
	return nil
}
