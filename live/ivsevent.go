package live

import (
	"context"

	"github.com/ivslive/ivslive"
)

// ApplyIVSEvent implements ivslive.IVSEventHandler: the events IVS sends to
// EventBridge, consumed by every instance. Applying one only updates
// recorded state (the host's, the seating of a replica stage); what must be
// done in IVS about it (restart a replication) is left to the leader's
// scaler, so two instances that see the same event never act twice. It is
// idempotent and tolerates order: IVS delivers late, repeated and out of
// order, and the reconciler reaches the same state without any event.
func (s *Service) ApplyIVSEvent(ctx context.Context, ev ivslive.IVSEvent) error {
	s.Log.Debug("ivs event", "id", ev.ID, "name", ev.Name, "stage", ev.StageARN, "participant", ev.ParticipantID)
	if ev.CompositionARN != "" {
		s.observeComposition(ev)
		return nil
	}
	if ev.StageARN == "" || ev.StageARN != s.MasterARN() {
		return nil // the host publishes on the master; replicas' own events add nothing
	}
	user, isHost := hostUserID(ev.UserID)
	switch ev.Name {
	case ivslive.IVSEventPublished, ivslive.IVSEventUnpublished, ivslive.IVSEventPublishError:
		_, err := s.observeHost(ctx, hostObservation{At: ev.Time, ParticipantID: ev.ParticipantID, UserID: user, HostToken: isHost,
			Publishing: ev.Name == ivslive.IVSEventPublished, Source: "event"})
		return err
	case ivslive.IVSEventReplicationStarted, ivslive.IVSEventReplicationStopped:
		return s.observeReplication(ctx, ev)
	}
	return nil
}

// observeReplication seats viewers on an auto-scaled stage when IVS says the
// host's replication into it started, and stops seating them when it says
// it stopped. Only the replication recorded on the stage counts, and a stop
// older than the recorded start is a late event about an earlier one.
func (s *Service) observeReplication(ctx context.Context, ev ivslive.IVSEvent) error {
	st, err := s.managed(ctx, ev.DestinationStageARN)
	if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	r := st.Replication
	if !st.AutoScaled || r == nil || r.ParticipantID != ev.ParticipantID {
		return nil
	}
	started := ev.Name == ivslive.IVSEventReplicationStarted
	if !started && ev.Time.Before(r.StartedAt) {
		return nil
	}
	if err := s.Presence.PutStage(ctx, st.ARN, seating(st, started)); err != nil {
		return err
	}
	if !started {
		s.nudge() // the leader restarts it while the host publishes
	}
	return nil
}
