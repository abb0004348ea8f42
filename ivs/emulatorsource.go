package ivs

import (
	"context"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs/emulator"
)

// EmulatorParticipants is the ParticipantSource of embedded mode: the
// emulator's own participant records, read in process (exact, and no call
// against the 5 TPS of ListParticipants), with a wake-up on every join and
// leave. Close ends its watch.
type EmulatorParticipants struct {
	em      *emulator.Emulator
	changed <-chan struct{}
	stop    func()
}

var _ ivslive.ParticipantSource = (*EmulatorParticipants)(nil)

// NewEmulatorParticipants watches em's participants.
func NewEmulatorParticipants(em *emulator.Emulator) *EmulatorParticipants {
	ch, stop := em.WatchParticipants()
	return &EmulatorParticipants{em: em, changed: ch, stop: stop}
}

// Changed implements ivslive.ParticipantSource.
func (e *EmulatorParticipants) Changed() <-chan struct{} { return e.changed }

// Close ends the watch.
func (e *EmulatorParticipants) Close() { e.stop() }

// StageParticipants implements ivslive.ParticipantSource.
func (e *EmulatorParticipants) StageParticipants(_ context.Context, stageARN string) ([]ivslive.Participant, error) {
	info := e.em.StageParticipants(stageARN)
	out := make([]ivslive.Participant, len(info))
	for i, p := range info {
		out[i] = ivslive.Participant{ID: p.ParticipantID, UserID: p.UserID, Connected: p.Connected, Published: p.Published,
			FirstJoinTime: p.FirstJoin, Replica: p.Replica, LeftAt: p.LeftAt}
	}
	return out, nil
}
