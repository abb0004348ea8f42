package redis

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
)

// Events carries events between instances with Redis pub/sub on the channel
// <prefix>events. Publish only queues (never blocks a request); Run sends
// the queue to Redis and hands every event received from Redis, this
// instance's own included, to deliver. Pub/sub is fire-and-forget: an
// instance that is disconnected misses events, which is fine for live
// updates (the WebSocket also pushes full stats every few seconds).
type Events struct {
	client  goredis.UniversalClient
	channel string
	deliver func(ivslive.Event)
	queue   chan ivslive.Event
	log     *slog.Logger
	dropped atomic.Int64
}

var _ ivslive.EventPublisher = (*Events)(nil)

// NewEvents returns a relay; deliver receives every event from every
// instance.
func NewEvents(client goredis.UniversalClient, prefix string, deliver func(ivslive.Event), log *slog.Logger) *Events {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Events{client: client, channel: prefix + "events", deliver: deliver, queue: make(chan ivslive.Event, 4096), log: log}
}

// Publish implements ivslive.EventPublisher. When the queue is full the
// event is dropped and counted.
func (e *Events) Publish(ev ivslive.Event) {
	select {
	case e.queue <- ev:
	default:
		e.dropped.Add(1)
	}
}

// Dropped returns how many events were dropped because the queue was full.
func (e *Events) Dropped() int64 { return e.dropped.Load() }

// Run relays until ctx is done.
func (e *Events) Run(ctx context.Context) {
	sub := e.client.Subscribe(ctx, e.channel)
	defer sub.Close()
	go func() {
		<-ctx.Done()
		sub.Close() // ends the range below
	}()
	// Wait for the subscription so events published right after start are
	// not missed by this instance.
	if _, err := sub.Receive(ctx); err != nil && ctx.Err() == nil {
		e.log.Warn("event subscription failed; retrying in the background", "err", err)
	}
	go e.send(ctx)
	for msg := range sub.Channel(goredis.WithChannelHealthCheckInterval(10 * time.Second)) {
		var ev ivslive.Event
		if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil {
			e.log.Warn("ignoring a malformed event", "err", err)
			continue
		}
		e.deliver(ev)
	}
}

func (e *Events) send(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-e.queue:
			b, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if err := e.client.Publish(pctx, e.channel, b).Err(); err != nil && ctx.Err() == nil {
				e.dropped.Add(1)
				e.log.Warn("could not publish an event", "type", ev.Type, "err", err)
			}
			cancel()
		}
	}
}
