package ivslive

import (
	"context"
	"time"
)

// ParticipantSource tells who IVS sees on a stage, so presence can follow
// IVS rather than heartbeats alone. In production it polls ListParticipants
// (EventBridge has no joined or left events); in embedded mode the emulator
// answers from its own records and pushes a wake-up on every change.
type ParticipantSource interface {
	// StageParticipants returns the participants of the stage's current
	// stage session, and of the one before it when it ended recently (its
	// participants all left). LeftAt is set when the source knows it.
	StageParticipants(ctx context.Context, stageARN string) ([]Participant, error)
	// Changed receives after a participant connected or left; nil when
	// the source cannot tell (it is polled).
	Changed() <-chan struct{}
}

// IVSCount is how many viewers IVS saw connected to a stage when the leader
// last looked: the participants CONNECTED that neither publish nor are
// replicas.
type IVSCount struct {
	StageARN  string
	Connected int
	At        time.Time
}

// IVSCounts is the presence store's copy of the leader's latest IVSCount
// per stage, so every instance shows the same. The reader judges staleness
// by At.
type IVSCounts interface {
	// SetIVSCounts replaces every stage's count with counts.
	SetIVSCounts(ctx context.Context, counts []IVSCount) error
	// IVSCounts returns the counts last set, in any order (none before
	// the first set).
	IVSCounts(ctx context.Context) ([]IVSCount, error)
}
