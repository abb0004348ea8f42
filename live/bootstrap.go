package live

import (
	"context"
	"fmt"

	"github.com/ivslive/ivslive"
)

// Bootstrap loads the managed stages into the catalog and presence store and
// makes sure the master stage exists: the configured MASTER_STAGE_ARN, or the
// one created on an earlier start, or a new one.
func (s *Service) Bootstrap(ctx context.Context) error {
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
// store.
func (s *Service) registerStages(ctx context.Context) error {
	cursor := ""
	for {
		page, next, _, err := s.Stages.FindStages(ctx, ivslive.StageFilter{After: cursor, Limit: 500})
		if err != nil {
			return fmt.Errorf("load stages: %w", err)
		}
		for _, st := range page {
			s.remember(st)
			if err := s.Presence.PutStage(ctx, st.ARN, st.State); err != nil {
				return fmt.Errorf("register stage %s: %w", st.ARN, err)
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

func (s *Service) ensureMaster(ctx context.Context) (ivslive.Stage, error) {
	arn := s.Config.MasterStageARN
	if arn == "" {
		v, err := s.Stages.Setting(ctx, ivslive.SettingMasterStageARN)
		if err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
			return ivslive.Stage{}, err
		}
		arn = v
	}
	if arn != "" {
		live, err := s.IVS.GetStage(ctx, arn)
		switch {
		case err == nil:
			return s.adoptMaster(ctx, live)
		case ivslive.ErrorCode(err) != ivslive.ENOTFOUND:
			if st, err := s.managed(ctx, arn); err == nil {
				s.Log.Warn("IVS unreachable at start; using the stored master stage", "arn", arn, "err", err)
				return st, nil
			}
			return ivslive.Stage{}, fmt.Errorf("get master stage %s: %w", arn, err)
		case s.Config.MasterStageARN != "":
			return ivslive.Stage{}, fmt.Errorf("MASTER_STAGE_ARN %s does not exist in IVS", arn)
		default:
			s.Log.Warn("the remembered master stage is gone from IVS; creating a new one", "arn", arn)
			s.markDeleted(ctx, arn)
		}
	}
	created, err := s.IVS.CreateStage(ctx, ivslive.CreateStageInput{
		Name: s.Config.StageNamePrefix + "master",
		Tags: s.tags(nil, false),
	})
	if err != nil {
		return ivslive.Stage{}, fmt.Errorf("create master stage: %w", err)
	}
	// Two instances starting together may both create one; the first
	// recorded wins and the other deletes its own.
	winner, err := s.Stages.InitSetting(ctx, ivslive.SettingMasterStageARN, created.ARN)
	if err != nil {
		return ivslive.Stage{}, err
	}
	if winner != created.ARN {
		if err := s.IVS.DeleteStage(ctx, created.ARN); err != nil {
			s.Log.Warn("could not delete a duplicate master stage", "arn", created.ARN, "err", err)
		}
		return s.ensureMaster(ctx)
	}
	s.Log.Info("created the master stage", "arn", created.ARN)
	return s.adoptMaster(ctx, created)
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
	}
	return nil
}

func (s *Service) markDeleted(ctx context.Context, arn string) {
	st, err := s.Stages.FindStageByARN(ctx, arn)
	if err != nil {
		return
	}
	st.State, st.Master, st.UpdatedAt = ivslive.StageDeleted, false, s.now()
	if err := s.Stages.SaveStage(ctx, st); err != nil {
		s.Log.Warn("could not mark a stage deleted", "arn", arn, "err", err)
	}
	s.forget(arn)
}
