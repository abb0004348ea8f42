package live

import (
	"context"
	"regexp"

	"github.com/ivslive/ivslive"
)

// participantIDPattern is the ParticipantId shape of the replication
// operations (no underscore, unlike tokens).
var participantIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`)

// StartReplication replicates a publishing participant from one stage into
// another and records it on the destination when ivslive manages it.
func (s *Service) StartReplication(ctx context.Context, r ivslive.Replication) (ivslive.Replication, error) {
	if err := validateReplication(r); err != nil {
		return r, err
	}
	if err := s.IVS.StartReplication(ctx, r); err != nil {
		return r, err
	}
	r.StartedAt = s.now()
	if st, err := s.managed(ctx, r.DestinationStageARN); err == nil {
		st.Replication = &r
		if err := s.saveStage(ctx, st); err != nil {
			return r, err
		}
	}
	s.Log.Info("replication started", "source", r.SourceStageARN, "destination", r.DestinationStageARN, "participant", r.ParticipantID)
	s.emit(ctx, ivslive.Event{Type: ivslive.EventReplicationStarted, StageARN: r.DestinationStageARN, ParticipantID: r.ParticipantID})
	return r, nil
}

// StopReplication stops a replication and forgets it.
func (s *Service) StopReplication(ctx context.Context, r ivslive.Replication) (ivslive.Replication, error) {
	if err := validateReplication(r); err != nil {
		return r, err
	}
	if err := s.IVS.StopReplication(ctx, r); err != nil {
		return r, err
	}
	if st, err := s.managed(ctx, r.DestinationStageARN); err == nil && st.Replication != nil && st.Replication.ParticipantID == r.ParticipantID {
		st.Replication = nil
		if err := s.saveStage(ctx, st); err != nil {
			return r, err
		}
	}
	s.Log.Info("replication stopped", "source", r.SourceStageARN, "destination", r.DestinationStageARN, "participant", r.ParticipantID)
	s.emit(ctx, ivslive.Event{Type: ivslive.EventReplicationStopped, StageARN: r.DestinationStageARN, ParticipantID: r.ParticipantID})
	return r, nil
}

// ReplicationStatus returns the replication recorded into a managed stage,
// or nil.
func (s *Service) ReplicationStatus(ctx context.Context, destinationARN string) (*ivslive.Replication, error) {
	if !ivslive.ValidStageARN(destinationARN) {
		return nil, ivslive.Errorf(ivslive.EVALIDATION, "stageArn is not a valid IVS stage ARN")
	}
	st, err := s.managed(ctx, destinationARN)
	if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return st.Replication, nil
}

func validateReplication(r ivslive.Replication) error {
	switch {
	case !ivslive.ValidStageARN(r.SourceStageARN):
		return ivslive.Errorf(ivslive.EVALIDATION, "sourceStageArn is not a valid IVS stage ARN")
	case !ivslive.ValidStageARN(r.DestinationStageARN):
		return ivslive.Errorf(ivslive.EVALIDATION, "destinationStageArn is not a valid IVS stage ARN")
	case r.SourceStageARN == r.DestinationStageARN:
		return ivslive.Errorf(ivslive.EVALIDATION, "sourceStageArn and destinationStageArn must differ")
	case !participantIDPattern.MatchString(r.ParticipantID):
		return ivslive.Errorf(ivslive.EVALIDATION, "participantId must be 1–64 characters of A–Z, a–z, 0–9 and -")
	}
	return nil
}
