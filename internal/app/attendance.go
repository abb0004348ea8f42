package app

import (
	"net/http"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/live"
)

// participantSource picks where the leader reads IVS's participants: the
// embedded emulator (openIVS's handler) in process, exact and pushed; else
// ListParticipants through the SDK client (AWS, or an emulator reached
// over IVS_ENDPOINT).
func (a *App) participantSource(client ivslive.IVS, embedded http.Handler) ivslive.ParticipantSource {
	em, ok := embedded.(*emulator.Emulator)
	if !ok {
		return &live.ListedParticipants{IVS: client}
	}
	src := ivs.NewEmulatorParticipants(em)
	a.onClose(func() error { src.Close(); return nil })
	return src
}
