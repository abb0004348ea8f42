package app

import (
	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/live"
)

// participantSource picks where the leader reads IVS's participants: the
// embedded emulator (nil when there is none) in process, exact and
// pushed; else ListParticipants through the SDK client (AWS, or an
// emulator reached over IVS_ENDPOINT).
func (a *App) participantSource(client ivslive.IVS, embedded *emulator.Emulator) ivslive.ParticipantSource {
	if embedded == nil {
		return &live.ListedParticipants{IVS: client}
	}
	src := ivs.NewEmulatorParticipants(embedded)
	a.onClose(func() error { src.Close(); return nil })
	return src
}
