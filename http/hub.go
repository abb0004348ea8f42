package http

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/live"
)

// Hub pushes live stats and events to WebSocket clients. It follows the
// event bus: a change marks the stats dirty, and once a second dirty stats
// are computed once (O(stages)) and sent to every subscriber, so pushes come
// within a second of a change, at most one per second per channel, and at
// least every fullEvery. A client that connects or subscribes gets the last
// snapshot, as fresh as a push would be: computed again only when it is
// older than minGap and something changed since, or older than fullEvery,
// and then once for everyone waiting. No message from a client costs a
// computation of its own.
type Hub struct {
	live *live.Service
	bus  *live.Bus
	log  *slog.Logger
	now  func() time.Time
	// OnClients, when set, is told the number of connected clients.
	OnClients func(n int)

	// last is the latest stats snapshot; statsMu lets one caller compute a
	// stale one while the others wait for it.
	last    atomic.Pointer[statsSnapshot]
	statsMu sync.Mutex
	// changed is when the bus last reported a change (Unix ns).
	changed atomic.Int64
	// pingEvery, when not 0, replaces wsPingInterval for clients that
	// connect afterwards (tests whose clients are not what is tested).
	pingEvery atomic.Int64

	mu      sync.Mutex
	clients map[*wsClient]struct{}
	// listeners are the clients subscribed to events, kept apart so an
	// event costs O(listeners), not O(clients).
	listeners map[*wsClient]struct{}
	closing   bool
	wg        sync.WaitGroup
}

// Push cadence: at most one stats push per minGap, at least one per
// fullEvery, checked every pushTick.
const (
	minGap    = time.Second
	fullEvery = 5 * time.Second
	pushTick  = 100 * time.Millisecond
)

// NewHub returns a hub over the service's stats and the bus's events.
func NewHub(svc *live.Service, bus *live.Bus, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{live: svc, bus: bus, log: log, now: time.Now, clients: map[*wsClient]struct{}{}, listeners: map[*wsClient]struct{}{}}
}

// Clients returns the number of connected clients (not counting those
// being disconnected).
func (h *Hub) Clients() int {
	return len(h.snapshot())
}

// serve runs one client until it disconnects.
func (h *Hub) serve(ctx context.Context, conn *websocket.Conn, p Principal) {
	c := &wsClient{conn: conn, principal: p, send: make(chan []byte, wsQueue),
		channels: map[string]bool{"stats": true}, done: make(chan struct{})}
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	h.clients[c] = struct{}{}
	n := len(h.clients)
	h.wg.Add(1)
	h.mu.Unlock()
	h.count(n)
	defer func() {
		h.mu.Lock()
		delete(h.clients, c)
		delete(h.listeners, c)
		n := len(h.clients)
		h.mu.Unlock()
		h.count(n)
		h.wg.Done()
	}()
	// Reads are never cancelled by a context: cancelling a read makes the
	// library drop the connection without a close frame. The closing
	// handshake (c.close) ends the read loop instead.
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	read := make(chan struct{})
	go func() { defer close(read); h.readLoop(cctx, c) }()
	go h.sendCurrent(cctx, c, "stats")
	ping := wsPingInterval
	if d := time.Duration(h.pingEvery.Load()); d > 0 {
		ping = d
	}
	c.writeLoop(cctx, ping)
	<-read
}

func (h *Hub) count(n int) {
	if h.OnClients != nil {
		h.OnClients(n)
	}
}

// Run follows the bus until ctx is done, then closes every client with
// "going away".
func (h *Hub) Run(ctx context.Context) {
	sub := h.bus.Subscribe(4096)
	defer func() { sub.Close() }()
	// A short tick with a one-second minimum gap: a change after a quiet
	// spell is pushed within pushTick, a burst at most once per second.
	tick := time.NewTicker(pushTick)
	defer tick.Stop()
	dirty, last := true, time.Time{}
	for {
		select {
		case <-ctx.Done():
			h.Close()
			return
		case e, ok := <-sub.C:
			if !ok { // we fell behind and were dropped: catch up with full stats
				sub, dirty = h.bus.Subscribe(4096), true
				continue
			}
			dirty = true
			h.changed.Store(h.now().UnixNano())
			if e.Type != ivslive.EventInstanceCounters {
				h.broadcastEvent(e)
			}
		case <-tick.C:
			since := h.now().Sub(last)
			if dirty && since >= minGap || since >= fullEvery {
				h.broadcastStats(ctx)
				dirty, last = false, h.now()
			}
		}
	}
}

// Close sends every client a "going away" close frame and waits (bounded)
// for them to finish.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closing = true
	for c := range h.clients {
		c.close(websocket.StatusGoingAway, "server shutting down")
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

func (h *Hub) snapshot() []*wsClient {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*wsClient, 0, len(h.clients))
	for c := range h.clients {
		if !c.closed() {
			out = append(out, c)
		}
	}
	return out
}

// listen adds or removes a client from the event listeners.
func (h *Hub) listen(c *wsClient, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if on {
		h.listeners[c] = struct{}{}
	} else {
		delete(h.listeners, c)
	}
}

func (h *Hub) broadcastEvent(e ivslive.Event) {
	h.mu.Lock()
	if len(h.listeners) == 0 {
		h.mu.Unlock()
		return
	}
	listeners := make([]*wsClient, 0, len(h.listeners))
	for c := range h.listeners {
		listeners = append(listeners, c)
	}
	h.mu.Unlock()
	msg := h.message(wsData[ivslive.Event]{Type: "event", Channel: "events", Data: e})
	for _, c := range listeners {
		c.enqueue(msg)
	}
}

type statsSnapshot struct {
	st live.Stats
	at time.Time
}

// computeStats computes the stats and keeps them as the last snapshot.
func (h *Hub) computeStats(ctx context.Context) (live.Stats, error) {
	// Stamped before reading: a change during the read makes it stale.
	at := h.now()
	st, err := h.live.Stats(ctx)
	if err == nil {
		h.last.Store(&statsSnapshot{st: st, at: at})
	}
	return st, err
}

// currentStats returns the last snapshot while a push would not be newer
// (younger than minGap, or younger than fullEvery with no change since),
// else computes one: once, however many clients ask at the same time.
func (h *Hub) currentStats(ctx context.Context) (live.Stats, error) {
	fresh := func() (live.Stats, bool) {
		s := h.last.Load()
		if s == nil {
			return live.Stats{}, false
		}
		age := h.now().Sub(s.at)
		if age < minGap || age < fullEvery && h.changed.Load() < s.at.UnixNano() {
			return s.st, true
		}
		return live.Stats{}, false
	}
	if st, ok := fresh(); ok {
		return st, nil
	}
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	if st, ok := fresh(); ok {
		return st, nil
	}
	return h.computeStats(ctx)
}

// broadcastStats computes the stats once and sends every client what it
// subscribed to.
func (h *Hub) broadcastStats(ctx context.Context) {
	clients := h.snapshot()
	if len(clients) == 0 {
		return
	}
	st, err := h.computeStats(ctx)
	if err != nil {
		h.log.Warn("websocket: stats unavailable", "err", err)
		return
	}
	statsMsg := h.message(h.statsUpdate(st))
	stageMsgs := map[string][]byte{}
	for _, c := range clients {
		if c.subscribed("stats") {
			c.enqueue(statsMsg)
		}
		for _, arn := range c.stages() {
			msg, ok := stageMsgs[arn]
			if !ok {
				msg = h.message(h.stageUpdate(st, arn))
				stageMsgs[arn] = msg
			}
			c.enqueue(msg)
		}
	}
}

// sendCurrent sends one channel's current state to one client.
func (h *Hub) sendCurrent(ctx context.Context, c *wsClient, channel string) {
	st, err := h.currentStats(ctx)
	if err != nil {
		c.enqueue(h.errorMessage(ivslive.ErrorCode(err), Message(err)))
		return
	}
	if channel == "stats" {
		c.enqueue(h.message(h.statsUpdate(st)))
		return
	}
	c.enqueue(h.message(h.stageUpdate(st, channel[len("stage:"):])))
}

type stageState struct {
	StageARN    string `json:"stageArn"`
	Name        string `json:"name"`
	ViewerCount int    `json:"viewerCount"`
	State       string `json:"state"`
	AutoScaled  bool   `json:"autoScaled"`
	IsMaster    bool   `json:"isMaster"`
	Replicating bool   `json:"replicating"`
	// IVS's view, where known (see live.StageView).
	IVSConnected *int   `json:"ivsConnected,omitempty"`
	Drift        *int   `json:"drift,omitempty"`
	WithoutHost  *int   `json:"withoutHost,omitempty"`
	Timestamp    string `json:"timestamp,omitempty"`
}

func toStageState(v live.StageView) stageState {
	return stageState{StageARN: v.ARN, Name: v.Name, ViewerCount: v.Viewers, State: string(v.State),
		AutoScaled: v.AutoScaled, IsMaster: v.Master, Replicating: v.Replication != nil,
		IVSConnected: v.IVSConnected, Drift: v.Drift(), WithoutHost: v.WithoutHost}
}

func (h *Hub) statsUpdate(st live.Stats) wsData[statsPush] {
	stages := make([]stageState, len(st.Stages))
	for i, v := range st.Stages {
		stages[i] = toStageState(v)
	}
	return wsData[statsPush]{Type: "stats_update", Channel: "stats", Data: statsPush{
		ViewerCount: st.TotalViewers, liveCounts: toLiveCounts(st), Stages: stages, Timestamp: h.stamp(),
	}}
}

func (h *Hub) stageUpdate(st live.Stats, arn string) wsData[stageState] {
	data := stageState{StageARN: arn, State: string(ivslive.StageDeleted)}
	for _, v := range st.Stages {
		if v.ARN == arn {
			data = toStageState(v)
		}
	}
	data.Timestamp = h.stamp()
	return wsData[stageState]{Type: "stage_update", Channel: "stage:" + arn, Data: data}
}

func (h *Hub) message(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("websocket: encode", "err", err)
		return []byte(`{"type":"error"}`)
	}
	return b
}

func (h *Hub) errorMessage(code, msg string) []byte {
	return h.message(wsError{Type: "error", Error: wsErrorBody{Code: code, Message: msg}, Timestamp: h.stamp()})
}

func (h *Hub) stamp() string { return isoTime(h.now()) }
