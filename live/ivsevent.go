package live

import (
	"context"

	"github.com/ivslive/ivslive"
)

// ApplyIVSEvent implements ivslive.IVSEventHandler: the events IVS sends to
// EventBridge, consumed by every instance. It must be idempotent and
// tolerate order: IVS delivers late, repeated and out of order.
func (s *Service) ApplyIVSEvent(ctx context.Context, ev ivslive.IVSEvent) error {
	s.Log.Debug("ivs event", "id", ev.ID, "name", ev.Name, "stage", ev.StageARN, "participant", ev.ParticipantID)
	return nil
}
