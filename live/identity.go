package live

import (
	"context"
	"fmt"

	"github.com/ivslive/ivslive"
)

// OtherIVSError is why an instance refuses to start: the stage store it
// shares belongs to another IVS (another emulator, account or region), so
// the stages it records do not exist where this instance would look for
// them. Nothing was written.
type OtherIVSError struct {
	// Recorded is the IVS the store belongs to; "" for a store from before
	// identities were recorded, whose master stage this IVS does not have.
	Recorded string
	// Current is this instance's IVS.
	Current string
	// Master is the recorded master stage.
	Master string
}

// Error implements error.
func (e *OtherIVSError) Error() string {
	if e.Recorded == "" {
		return fmt.Sprintf("the shared stage store's master stage %s is not in this instance's IVS (%s): the stages belong to another IVS", e.Master, e.Current)
	}
	return fmt.Sprintf("the shared stage store belongs to IVS %s, but this instance's IVS is %s", e.Recorded, e.Current)
}

// claimIVS makes sure the stage store belongs to this instance's IVS before
// anything is written. The first instance records its IVS; a store from
// before identities were recorded is claimed only if its master stage is in
// this IVS.
func (s *Service) claimIVS(ctx context.Context) error {
	current := s.Config.IVSIdentity
	if current == "" {
		return nil
	}
	recorded, err := s.Stages.Setting(ctx, ivslive.SettingIVSIdentity)
	switch {
	case err == nil:
		return s.sameIVS(ctx, recorded)
	case ivslive.ErrorCode(err) != ivslive.ENOTFOUND:
		return fmt.Errorf("read the IVS identity of the stage store: %w", err)
	}
	if err := s.verifyUnclaimed(ctx); err != nil {
		return err
	}
	// Two first instances may race: the first recorded wins.
	recorded, err = s.Stages.InitSetting(ctx, ivslive.SettingIVSIdentity, current)
	if err != nil {
		return fmt.Errorf("record the IVS identity of the stage store: %w", err)
	}
	if recorded == current {
		s.Log.Info("the stage store belongs to this IVS from now on", "ivs", current)
	}
	return s.sameIVS(ctx, recorded)
}

// sameIVS accepts the recorded identity if it is this instance's, and takes
// a local store over (its emulator's state was lost: no other instance can
// be using it).
func (s *Service) sameIVS(ctx context.Context, recorded string) error {
	current := s.Config.IVSIdentity
	switch {
	case recorded == current:
		return nil
	case s.Config.StoreLocal:
		s.Log.Warn("the local stage store belongs to another IVS (the emulator's state was lost?); taking it over", "recorded", recorded, "ivs", current)
		if err := s.Stages.SetSetting(ctx, ivslive.SettingIVSIdentity, current); err != nil {
			return fmt.Errorf("record the IVS identity of the stage store: %w", err)
		}
		return nil
	default:
		return &OtherIVSError{Recorded: recorded, Current: current}
	}
}

// verifyUnclaimed checks a store without a recorded identity: new, or from
// before identities were recorded, in which case its master stage must be in
// this IVS.
func (s *Service) verifyUnclaimed(ctx context.Context) error {
	arn, err := s.masterARN(ctx)
	if err != nil || arn == "" {
		return err
	}
	_, err = s.IVS.GetStage(ctx, arn)
	switch {
	case err == nil:
		return nil
	case ivslive.ErrorCode(err) != ivslive.ENOTFOUND:
		return fmt.Errorf("check that the master stage %s is in this IVS: %w", arn, err)
	case s.Config.MasterStageARN != "":
		return fmt.Errorf("MASTER_STAGE_ARN %s does not exist in IVS", arn)
	case s.Config.StoreLocal:
		return nil // ensureMaster replaces it, as before identities
	default:
		return &OtherIVSError{Current: s.Config.IVSIdentity, Master: arn}
	}
}
