package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

func errNoPublisher() error { return ivslive.NotFound(ivslive.RPublisher) }

// WithNow sets the clock a Presence tells a publisher's expiry by (time.Now
// by default), as memory.NewPresence's now does, so the twins agree under a
// test's clock.
func WithNow(now func() time.Time) Option { return func(o *optionSet) { o.now = now } }

// SetPublisher implements ivslive.PresenceStore. The hash expires when
// pub.ExpiresAt comes on the store's clock, so a publisher whose token ran
// out disappears without a sweeper: the key's lifetime is relative
// (PEXPIRE), because the store's clock need not be Redis's. The old hash is
// deleted in the same MULTI so no field of a previous publisher survives.
func (p *Presence) SetPublisher(ctx context.Context, pub ivslive.Publisher) error {
	key := p.publisherKey()
	_, err := p.client.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		pipe.Del(ctx, key)
		ttl := pub.ExpiresAt.Sub(p.now())
		if ttl <= 0 {
			return nil // already expired: nothing is live
		}
		pipe.HSet(ctx, key,
			"user", pub.UserID, "pid", pub.ParticipantID, "stage", pub.StageARN,
			"joined", pub.JoinedAt.UnixMilli(), "expires", pub.ExpiresAt.UnixMilli(),
			"publishing", boolField(pub.Publishing), "spid", pub.PublishingID, "state", pub.StateAt.UnixMilli())
		pipe.Do(ctx, "pexpire", key, max(ttl.Milliseconds(), 1))
		return nil
	})
	if err != nil {
		return unavailable("set publisher", err)
	}
	return nil
}

// Publisher implements ivslive.PresenceStore. Besides the key's own expiry,
// the stored expiry is checked against the store's clock, as memory does,
// so a Redis clock running behind never extends a broadcast.
func (p *Presence) Publisher(ctx context.Context) (ivslive.Publisher, error) {
	h, err := p.client.HGetAll(ctx, p.publisherKey()).Result()
	if err != nil {
		return ivslive.Publisher{}, unavailable("publisher", err)
	}
	if len(h) == 0 {
		return ivslive.Publisher{}, errNoPublisher()
	}
	joined, err := parseMillis(h["joined"])
	if err != nil {
		return ivslive.Publisher{}, malformed("publisher", fmt.Errorf("joined: %w", err))
	}
	expires, err := parseMillis(h["expires"])
	if err != nil {
		return ivslive.Publisher{}, malformed("publisher", fmt.Errorf("expires: %w", err))
	}
	if !p.now().Before(expires) {
		return ivslive.Publisher{}, errNoPublisher()
	}
	var state time.Time
	if v, ok := h["state"]; ok { // absent in a hash written before host state existed
		if state, err = parseMillis(v); err != nil {
			return ivslive.Publisher{}, malformed("publisher", fmt.Errorf("state: %w", err))
		}
	}
	return ivslive.Publisher{
		UserID: h["user"], ParticipantID: h["pid"], StageARN: h["stage"],
		JoinedAt: joined, ExpiresAt: expires,
		Publishing: h["publishing"] == "1", PublishingID: h["spid"], StateAt: state,
	}, nil
}

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ClearPublisher implements ivslive.PresenceStore with a compare-and-delete
// script, so a late "publisher left" event never ends a newer broadcast.
func (p *Presence) ClearPublisher(ctx context.Context, participantID string) error {
	if err := clearPublisherScript.Run(ctx, p.scripts, nil, p.prefix, participantID).Err(); err != nil {
		return unavailable("clear publisher", err)
	}
	return nil
}
