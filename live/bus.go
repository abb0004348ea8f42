package live

import (
	"sync"

	"github.com/ivslive/ivslive"
)

// Bus fans events out to subscribers in this process. Delivering never
// blocks: a subscriber whose buffer is full is dropped (its channel closed)
// rather than waited for, so one slow WebSocket cannot stall a heartbeat.
type Bus struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscription is one subscriber's stream of events. C is closed when the
// subscriber is dropped or closes it.
type Subscription struct {
	C   <-chan ivslive.Event
	c   chan ivslive.Event
	bus *Bus
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Subscribe returns a subscription buffering up to buffer events.
func (b *Bus) Subscribe(buffer int) *Subscription {
	c := make(chan ivslive.Event, buffer)
	s := &Subscription{C: c, c: c, bus: b}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Close ends the subscription.
func (s *Subscription) Close() {
	b := s.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

// Publish implements ivslive.EventPublisher for a bus used on its own
// (memory mode): it delivers locally.
func (b *Bus) Publish(e ivslive.Event) { b.Deliver(e) }

// Deliver hands e to every subscriber without waiting.
func (b *Bus) Deliver(e ivslive.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.c <- e:
		default:
			delete(b.subs, s)
			close(s.c)
		}
	}
}

// Subscribers returns how many subscriptions are open.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
