package redis

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

// ivsCountsTTL removes the counts when no leader has written them for a
// long time; readers judge freshness by each count's time, long before.
const ivsCountsTTL = time.Hour

// ivsCount is one stored IVSCount.
type ivsCount struct {
	ARN       string `json:"arn"`
	Connected int    `json:"connected"`
	At        int64  `json:"at"` // Unix ms
}

func (p *Presence) ivsCountsKey() string { return p.prefix + "ivs:counts" }

// SetIVSCounts implements ivslive.PresenceStore: one SET replaces every
// stage's count at once, so a reader never sees half of a round.
func (p *Presence) SetIVSCounts(ctx context.Context, counts []ivslive.IVSCount) error {
	stored := make([]ivsCount, len(counts))
	for i, c := range counts {
		stored[i] = ivsCount{ARN: c.StageARN, Connected: c.Connected, At: c.At.UnixMilli()}
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return malformed("set ivs counts", err)
	}
	if err := p.client.Set(ctx, p.ivsCountsKey(), b, ivsCountsTTL).Err(); err != nil {
		return unavailable("set ivs counts", err)
	}
	return nil
}

// IVSCounts implements ivslive.PresenceStore.
func (p *Presence) IVSCounts(ctx context.Context) ([]ivslive.IVSCount, error) {
	b, err := p.client.Get(ctx, p.ivsCountsKey()).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable("ivs counts", err)
	}
	var stored []ivsCount
	if err := json.Unmarshal(b, &stored); err != nil {
		return nil, malformed("ivs counts", err)
	}
	out := make([]ivslive.IVSCount, len(stored))
	for i, c := range stored {
		out[i] = ivslive.IVSCount{StageARN: c.ARN, Connected: c.Connected, At: time.UnixMilli(c.At).UTC()}
	}
	return out, nil
}
