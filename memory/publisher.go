package memory

import (
	"context"

	"github.com/ivslive/ivslive"
)

// SetPublisher implements ivslive.PresenceStore.
func (p *Presence) SetPublisher(_ context.Context, pub ivslive.Publisher) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.publisher = &pub
	return nil
}

// Publisher implements ivslive.PresenceStore.
func (p *Presence) Publisher(context.Context) (ivslive.Publisher, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.publisher == nil || !p.now().Before(p.publisher.ExpiresAt) {
		return ivslive.Publisher{}, ivslive.NotFound(ivslive.RPublisher)
	}
	return *p.publisher, nil
}

// ClearPublisher implements ivslive.PresenceStore.
func (p *Presence) ClearPublisher(_ context.Context, participantID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.publisher != nil && (participantID == "" || p.publisher.ParticipantID == participantID) {
		p.publisher = nil
	}
	return nil
}
