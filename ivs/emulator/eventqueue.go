package emulator

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event queue defaults: SQS's defaults for a standard queue.
const (
	// EventQueueName is the name of the emulator's event queue (the target
	// of its EventBridge rule).
	EventQueueName           = "ivslive-events"
	defaultEventQueueSize    = 10_000
	defaultVisibilityTimeout = 30 * time.Second
	maxVisibilityTimeout     = 12 * time.Hour
	maxWaitTime              = 20 * time.Second
	maxMessageBytes          = 1 << 20
)

// eventQueue is the SQS standard queue that the emulator's EventBridge rule
// targets: every "IVS Stage Update" event becomes one message whose body is
// the event's JSON. Delivery is at least once, as in SQS: a received message
// is hidden for its visibility timeout and comes back unless deleted with
// its latest receipt handle, so two consumers may see the same event.
// Visibility is measured on the emulator's clock; long polls wait in real
// time (they are HTTP requests).
type eventQueue struct {
	now      func() time.Time
	capacity int

	mu     sync.Mutex
	msgs   []*queuedMessage // oldest first
	byID   map[string]*queuedMessage
	drop   int           // the next events to lose on purpose (DropEvents)
	wake   chan struct{} // closed (and replaced) when a message may be receivable
	closed bool
	stats  EventQueueStats
	polls  int // long polls waiting now (tests wait for one)
}

// queuedMessage is one message of the event queue.
type queuedMessage struct {
	id, body, md5 string
	sent          time.Time
	visibleAt     time.Time
	receives      int
	firstReceive  time.Time
	receipt       string // the latest receipt handle; "" before the first receive
}

// EventQueueStats counts what the event queue did with the emulator's
// events.
type EventQueueStats struct {
	// Queued is the number of messages in the queue, in flight included.
	Queued int
	// InFlight is the number received and not yet visible again.
	InFlight int
	// Sent counts the messages put in the queue (events and SendMessage).
	Sent int64
	// Dropped counts the events lost on purpose (DropEvents).
	Dropped int64
	// Overflowed counts the oldest messages dropped because the queue was
	// full.
	Overflowed int64
	// Deleted counts the messages deleted by consumers.
	Deleted int64
}

func newEventQueue(now func() time.Time, capacity int) *eventQueue {
	return &eventQueue{now: now, capacity: capacity, byID: make(map[string]*queuedMessage), wake: make(chan struct{})}
}

// DropEvents makes the emulator lose its next n EventBridge events before
// they reach the event queue, as EventBridge's best-effort delivery may: no
// consumer ever sees them. Tests use it to show that the state converges
// without events. n <= 0 clears a pending drop.
func (e *Emulator) DropEvents(n int) {
	e.queue.mu.Lock()
	defer e.queue.mu.Unlock()
	e.queue.drop = max(n, 0)
}

// EventQueueStats reports the event queue's counters.
func (e *Emulator) EventQueueStats() EventQueueStats {
	q := e.queue
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Queued = len(q.msgs)
	now := q.now()
	for _, m := range q.msgs {
		if m.visibleAt.After(now) {
			s.InFlight++
		}
	}
	return s
}

// offerEvent queues an event's JSON unless it is to be dropped on purpose.
// It returns how many messages the bound has dropped when this one made it
// drop one, else 0.
func (q *eventQueue) offerEvent(body string) (overflowed int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.drop > 0 {
		q.drop--
		q.stats.Dropped++
		return 0
	}
	before := q.stats.Overflowed
	q.sendLocked(body)
	if q.stats.Overflowed > before {
		return q.stats.Overflowed
	}
	return 0
}

// send queues body and returns its message. After close the message is
// accepted and lost, as the emulator is going away.
func (q *eventQueue) send(body string) *queuedMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.sendLocked(body)
}

// sendLocked appends a message, dropping the oldest when the queue is
// full (counted in stats.Overflowed).
func (q *eventQueue) sendLocked(body string) *queuedMessage {
	sum := md5.Sum([]byte(body))
	now := q.now()
	m := &queuedMessage{id: newRequestID(), body: body, md5: hex.EncodeToString(sum[:]), sent: now, visibleAt: now}
	if q.closed {
		return m
	}
	if len(q.msgs) >= q.capacity {
		old := q.msgs[0]
		q.msgs[0] = nil
		q.msgs = q.msgs[1:]
		delete(q.byID, old.id)
		q.stats.Overflowed++
	}
	q.msgs = append(q.msgs, m)
	q.byID[m.id] = m
	q.stats.Sent++
	q.wakeLocked()
	return m
}

// wakeLocked wakes every long poll: a message may be receivable.
func (q *eventQueue) wakeLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// close ends every long poll; the queue takes nothing more.
func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		q.wakeLocked()
	}
}

// receive takes up to max visible messages and hides them for visibility.
// With nothing visible it waits up to wait (real time) and answers as soon
// as one is, or empty at the end of the wait, when ctx ends or the queue
// closes.
func (q *eventQueue) receive(ctx context.Context, max int, visibility, wait time.Duration) []queuedMessage {
	deadline := time.Now().Add(wait)
	for {
		q.mu.Lock()
		got := q.takeLocked(max, visibility)
		wake, closed := q.wake, q.closed
		next, hasNext := q.nextVisibleLocked()
		q.mu.Unlock()
		left := time.Until(deadline)
		if len(got) > 0 || closed || left <= 0 {
			return got
		}
		// Wake up when an in-flight message becomes visible again, or at
		// the deadline; a message sent meanwhile closes wake.
		if hasNext && next < left {
			left = next
		}
		if !q.wait(ctx, wake, left) {
			return nil
		}
	}
}

// wait blocks until wake closes or d passes, counted as a waiting poll;
// false when ctx ended.
func (q *eventQueue) wait(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	q.mu.Lock()
	q.polls++
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.polls--
		q.mu.Unlock()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-timer.C:
	}
	return true
}

// takeLocked marks up to max visible messages received and returns copies.
func (q *eventQueue) takeLocked(max int, visibility time.Duration) []queuedMessage {
	now := q.now()
	var got []queuedMessage
	for _, m := range q.msgs {
		if len(got) == max {
			break
		}
		if m.visibleAt.After(now) {
			continue
		}
		m.receives++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.visibleAt = now.Add(visibility)
		m.receipt = newReceipt(m.id, m.receives)
		got = append(got, *m)
	}
	return got
}

// nextVisibleLocked returns how long until the first in-flight message is
// visible again.
func (q *eventQueue) nextVisibleLocked() (time.Duration, bool) {
	now := q.now()
	var next time.Duration
	found := false
	for _, m := range q.msgs {
		if d := m.visibleAt.Sub(now); d > 0 && (!found || d < next) {
			next, found = d, true
		}
	}
	return next, found
}

// newReceipt returns a receipt handle naming the message and the receive
// it was issued for, plus randomness, as SQS's are opaque but unique.
func newReceipt(id string, receive int) string {
	raw := id + ":" + strconv.Itoa(receive) + ":" + randomAlnum(16)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// parseReceipt returns the message id a receipt handle was issued for.
func parseReceipt(handle string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(handle)
	if err != nil {
		return "", false
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || len(parts[0]) != 36 {
		return "", false
	}
	if _, err := strconv.Atoi(parts[1]); err != nil {
		return "", false
	}
	return parts[0], true
}

// errReceipt is a receipt handle this queue never issued.
type errReceipt struct{}

func (errReceipt) Error() string { return "the receipt handle is not valid" }

// errNotInflight is a ChangeMessageVisibility on a message not in flight.
type errNotInflight struct{}

func (errNotInflight) Error() string { return "the message is not in flight" }

// deleteMessage deletes the message a receipt handle was issued for. As in
// SQS, a handle of an earlier receive (the message was received again
// since) succeeds without deleting it, and so does a handle of a message
// already deleted: the caller cannot tell, which is why consumers must be
// idempotent.
func (q *eventQueue) deleteMessage(handle string) error {
	id, ok := parseReceipt(handle)
	if !ok {
		return errReceipt{}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.byID[id]
	if m == nil || m.receipt != handle {
		return nil
	}
	delete(q.byID, id)
	for i, x := range q.msgs {
		if x == m {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			break
		}
	}
	q.stats.Deleted++
	return nil
}

// changeVisibility sets an in-flight message's remaining visibility
// timeout, counted from now; 0 makes it visible at once.
func (q *eventQueue) changeVisibility(handle string, visibility time.Duration) error {
	id, ok := parseReceipt(handle)
	if !ok {
		return errReceipt{}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.byID[id]
	now := q.now()
	if m == nil || m.receipt != handle || !m.visibleAt.After(now) {
		return errNotInflight{}
	}
	m.visibleAt = now.Add(visibility)
	if visibility == 0 {
		q.wakeLocked()
	}
	return nil
}
