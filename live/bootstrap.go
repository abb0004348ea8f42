package live

import (
	"context"
	"fmt"
	"time"

	"github.com/ivslive/ivslive"
)

// Bootstrap loads the managed stages into the catalog and presence store and
// makes sure the master stage exists: the configured MASTER_STAGE_ARN, or the
// one created on an earlier start, or a new one. It first makes sure the
// stage store belongs to this instance's IVS, and writes nothing otherwise.
func (s *Service) Bootstrap(ctx context.Context) error {
	if err := s.claimIVS(ctx); err != nil {
		return err
	}
	intact, err := s.Presence.Intact(ctx)
	if err != nil {
		return fmt.Errorf("read presence: %w", err)
	}
	if err := s.registerStages(ctx); err != nil {
		return err
	}
	master, err := s.ensureMaster(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.master = master.ARN
	s.mu.Unlock()
	s.Log.Info("master stage ready", "arn", master.ARN, "name", master.Name)
	// A presence store that is not intact at start (first start, an
	// embedded-mode restart, a Redis that restarted without persistence)
	// gets the live sessions of the newest checkpoint back.
	if !intact {
		if _, err := s.RestorePresence(ctx); err != nil {
			return fmt.Errorf("restore presence: %w", err)
		}
		if err := s.Presence.MarkIntact(ctx); err != nil {
			return fmt.Errorf("restore presence: %w", err)
		}
	}
	return nil
}

// registerStages loads the managed stages into the catalog and the presence
// store. A stage the presence store already seats on (another instance's
// scaler saw its replication ACTIVE) keeps seating.
func (s *Service) registerStages(ctx context.Context) error {
	loads, err := s.Presence.Loads(ctx)
	if err != nil {
		return fmt.Errorf("load stages: %w", err)
	}
	seated := map[string]bool{}
	for _, l := range loads {
		seated[l.ARN] = takesViewers(l.State)
	}
	cursor := ""
	for {
		page, next, _, err := s.Stages.FindStages(ctx, ivslive.StageFilter{After: cursor, Limit: 500})
		if err != nil {
			return fmt.Errorf("load stages: %w", err)
		}
		for _, st := range page {
			s.remember(st)
			if err := s.Presence.PutStage(ctx, st.ARN, seating(st, seated[st.ARN])); err != nil {
				return fmt.Errorf("register stage %s: %w", st.ARN, err)
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// masterARN returns the configured master stage, else the recorded one, or
// "" when there is none yet.
func (s *Service) masterARN(ctx context.Context) (string, error) {
	if s.Config.MasterStageARN != "" {
		return s.Config.MasterStageARN, nil
	}
	v, err := s.Stages.Setting(ctx, ivslive.SettingMasterStageARN)
	if err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		return "", fmt.Errorf("read the master stage: %w", err)
	}
	return v, nil
}

func (s *Service) ensureMaster(ctx context.Context) (ivslive.Stage, error) {
	arn, err := s.masterARN(ctx)
	if err != nil {
		return ivslive.Stage{}, err
	}
	if arn == "" {
		return s.createMaster(ctx)
	}
	live, err := s.IVS.GetStage(ctx, arn)
	switch {
	case err == nil:
		return s.adoptMaster(ctx, live)
	case ivslive.ErrorCode(err) != ivslive.ENOTFOUND:
		if st, merr := s.managed(ctx, arn); merr == nil {
			s.Log.Warn("IVS unreachable at start; using the stored master stage", "arn", arn, "err", err)
			return st, nil
		}
		return ivslive.Stage{}, fmt.Errorf("get master stage %s: %w", arn, err)
	case s.Config.MasterStageARN != "":
		return ivslive.Stage{}, fmt.Errorf("MASTER_STAGE_ARN %s does not exist in IVS", arn)
	default:
		return s.replaceMaster(ctx, arn)
	}
}

// createMaster creates the first master stage. Two instances starting
// together may both create one: the first recorded wins, and the other
// deletes its own and adopts the winner.
func (s *Service) createMaster(ctx context.Context) (ivslive.Stage, error) {
	created, err := s.newMasterStage(ctx)
	if err != nil {
		return ivslive.Stage{}, fmt.Errorf("create master stage: %w", err)
	}
	winner, err := s.Stages.InitSetting(ctx, ivslive.SettingMasterStageARN, created.ARN)
	if err != nil || winner != created.ARN {
		s.discardMasterStage(ctx, created.ARN)
	}
	if err != nil {
		return ivslive.Stage{}, fmt.Errorf("record the master stage: %w", err)
	}
	if winner != created.ARN {
		live, err := s.IVS.GetStage(ctx, winner)
		if err != nil {
			return ivslive.Stage{}, fmt.Errorf("get the master stage %s another instance created: %w", winner, err)
		}
		return s.adoptMaster(ctx, live)
	}
	s.Log.Info("created the master stage", "arn", created.ARN)
	return s.adoptMaster(ctx, created)
}

// replaceMaster replaces a recorded master stage that IVS does not have
// (claimIVS made sure it is the IVS the store belongs to). Only the leader
// decides that a stage is gone: another instance waits, until ctx ends,
// for the lease to come free or for the leader to record a new one.
func (s *Service) replaceMaster(ctx context.Context, gone string) (ivslive.Stage, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if s.leads(ctx) {
			return s.recreateMaster(ctx, gone)
		}
		if arn, err := s.masterARN(ctx); err == nil && arn != gone && arn != "" {
			if live, err := s.IVS.GetStage(ctx, arn); err == nil {
				return s.adoptMaster(ctx, live)
			}
		}
		select {
		case <-ctx.Done():
			return ivslive.Stage{}, fmt.Errorf("the master stage %s is not in IVS, and only the leader may replace it: "+
				"another instance leads and did not replace it (%w). Restart the leader instance, or stop the others, "+
				"so that one instance replaces it", gone, ctx.Err())
		case <-tick.C:
		}
	}
}

// recreateMaster creates a new master stage, records it in place of the one
// that is gone and then removes the old one (closing the sessions left on
// it). It runs on the leader only.
func (s *Service) recreateMaster(ctx context.Context, gone string) (ivslive.Stage, error) {
	s.Log.Warn("the master stage is gone from IVS; creating a new one", "arn", gone)
	created, err := s.newMasterStage(ctx)
	if err != nil {
		return ivslive.Stage{}, fmt.Errorf("replace the master stage %s, which is gone from IVS: %w", gone, err)
	}
	if err := s.Stages.SetSetting(ctx, ivslive.SettingMasterStageARN, created.ARN); err != nil {
		s.discardMasterStage(ctx, created.ARN)
		return ivslive.Stage{}, fmt.Errorf("record the new master stage: %w", err)
	}
	master, err := s.adoptMaster(ctx, created)
	if err != nil {
		return ivslive.Stage{}, err
	}
	if old, err := s.Stages.FindStageByARN(ctx, gone); err == nil && old.State != ivslive.StageDeleted {
		old.Master = false
		if err := s.removeStage(ctx, old, "gone from IVS"); err != nil {
			s.Log.Warn("could not remove the master stage that is gone", "arn", gone, "err", err)
		}
	}
	s.Log.Info("created the master stage", "arn", created.ARN, "replaces", gone)
	return master, nil
}

func (s *Service) newMasterStage(ctx context.Context) (ivslive.Stage, error) {
	return s.IVS.CreateStage(ctx, ivslive.CreateStageInput{Name: s.Config.StageNamePrefix + "master", Tags: s.tags(nil, false)})
}

// discardMasterStage deletes a master stage created but not recorded, so IVS
// keeps no stage ivslive does not know.
func (s *Service) discardMasterStage(ctx context.Context, arn string) {
	if err := s.IVS.DeleteStage(ctx, arn); err != nil {
		s.Log.Warn("could not delete a master stage that was not recorded", "arn", arn, "err", err)
	}
}

// leads reports whether this instance may make decisions for all of them.
func (s *Service) leads(ctx context.Context) bool {
	return s.Leader == nil || s.Leader.TryLead(ctx)
}

// adoptMaster records a stage that exists in IVS as the master stage.
func (s *Service) adoptMaster(ctx context.Context, live ivslive.Stage) (ivslive.Stage, error) {
	st, err := s.Stages.FindStageByARN(ctx, live.ARN)
	if err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		return ivslive.Stage{}, err
	}
	if err != nil || st.State == ivslive.StageDeleted {
		st = ivslive.Stage{CreatedAt: s.now()}
	}
	st.ARN, st.Name, st.Tags, st.Endpoints, st.Recording = live.ARN, live.Name, live.Tags, live.Endpoints, live.Recording
	st.Master, st.AutoScaled, st.State, st.UpdatedAt = true, false, ivslive.StageActive, s.now()
	if err := s.Stages.SaveStage(ctx, st); err != nil {
		return ivslive.Stage{}, err
	}
	if err := s.Presence.PutStage(ctx, st.ARN, ivslive.StageActive); err != nil {
		return ivslive.Stage{}, err
	}
	s.remember(st)
	return st, nil
}

// tags returns the tags of a stage ivslive creates: the caller's, then ours,
// which win so a stage stays recognisable as managed.
func (s *Service) tags(user map[string]string, autoScaled bool) map[string]string {
	t := map[string]string{TagEnvironment: s.Config.Environment}
	for k, v := range user {
		t[k] = v
	}
	t[TagManagedBy] = ManagedByValue
	if autoScaled {
		t[TagAutoScaled] = "true"
	}
	return t
}

func validateTags(tags map[string]string) error {
	if len(tags) > maxTags-3 { // room for ours
		return ivslive.Errorf(ivslive.EVALIDATION, "tags: at most %d tags", maxTags-3)
	}
	for k, v := range tags {
		if k == "" || len(k) > maxTagKeyLength {
			return ivslive.Errorf(ivslive.EVALIDATION, "tags: keys must be 1–%d characters", maxTagKeyLength)
		}
		if len(v) > maxTagValueLen {
			return ivslive.Errorf(ivslive.EVALIDATION, "tags.%s: values must be at most %d characters", k, maxTagValueLen)
		}
		// Tags are stored with the stage (JSON in PostgreSQL, which refuses
		// a NUL even escaped); the key is checked first so the field named
		// in the error is printable.
		if err := ivslive.CheckID("tags", k, 0); err != nil {
			return err
		}
		if err := ivslive.CheckID("tags."+k, v, 0); err != nil {
			return err
		}
	}
	return nil
}
