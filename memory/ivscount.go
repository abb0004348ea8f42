package memory

import (
	"context"
	"slices"

	"github.com/ivslive/ivslive"
)

// SetIVSCounts implements ivslive.PresenceStore.
func (p *Presence) SetIVSCounts(_ context.Context, counts []ivslive.IVSCount) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ivsCounts = slices.Clone(counts)
	return nil
}

// IVSCounts implements ivslive.PresenceStore.
func (p *Presence) IVSCounts(context.Context) ([]ivslive.IVSCount, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ivsCounts), nil
}
