package emulator

import (
	"crypto/rand"
	"net/http"
)

// identityOutput is the body of GET /_emulator/identity.
type identityOutput struct {
	EmulatorID string `json:"emulatorId"`
	AccountID  string `json:"accountId"`
	Region     string `json:"region"`
}

// ID returns the emulator's id: random, made once and kept in the state file
// with the stages, so it names this emulator's stages for as long as they
// exist. Every emulator writes the same account and region into ARNs by
// default, so ivslive instances that share a stage store compare ids to tell
// whether they share an emulator.
func (e *Emulator) ID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state.ID
}

// identity answers GET /_emulator/identity (an emulator extension).
func (e *Emulator) identity(*http.Request) (any, error) {
	return identityOutput{EmulatorID: e.ID(), AccountID: e.opts.AccountID, Region: e.opts.Region}, nil
}

// ensureIDLocked gives a state without an id (a new one, or one saved before
// ids existed) a new id, and reports whether it did.
func (e *Emulator) ensureIDLocked() bool {
	if e.state.ID != "" {
		return false
	}
	e.state.ID = rand.Text()
	return true
}
