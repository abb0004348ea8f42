package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/ivslive/ivslive"
)

// WebSocket limits: a client's messages are small commands; its queue holds
// a few seconds of updates; a client that stops answering pings is gone.
const (
	wsReadLimit    = 4 << 10
	wsQueue        = 64
	wsPingInterval = 20 * time.Second
	wsPingTimeout  = 10 * time.Second
	wsWriteTimeout = 10 * time.Second
	wsSubprotocol  = "ivslive"
	// maxChannels bounds a client's subscriptions so one push round (one
	// message per channel) always fits its queue.
	maxChannels = 32
)

// wsKey finds the key a WebSocket client presented: the x-api-key header,
// the apiKey query parameter (inURL: proxies and servers log URLs), or a
// "key.<key>" subprotocol (browsers cannot set headers on a WebSocket).
func wsKey(r *http.Request) (key string, inURL bool) {
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return k, false
	}
	if k := r.URL.Query().Get("apiKey"); k != "" {
		return k, true
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if k, ok := strings.CutPrefix(strings.TrimSpace(p), "key."); ok {
				return k, false
			}
		}
	}
	return "", false
}

// queryKeyWarnEvery rate-limits the warning about keys sent in the URL.
const queryKeyWarnEvery = time.Minute

// warnKeyInURL tells the operator, at most once per queryKeyWarnEvery,
// that a client sends its key in the URL; the form keeps working (the Node
// server's clients use it).
func (s *Server) warnKeyInURL(r *http.Request) {
	now := s.now().UnixNano()
	last := s.lastURLKeyWarn.Load()
	if last != 0 && now-last < int64(queryKeyWarnEvery) || !s.lastURLKeyWarn.CompareAndSwap(last, now) {
		return
	}
	s.Log.Warn("a WebSocket client sent its API key in the URL (?apiKey=), where proxies and access logs keep it; send it as the subprotocol key.<key> instead (this warning repeats at most once a minute)",
		"ip", s.clientIP(r))
}

// handleWebSocket authenticates before the upgrade (401/403 in the
// envelope) and then hands the connection to the hub.
func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) {
	if s.Hub == nil {
		s.Error(w, r, routeNotFound("/ws"))
		return
	}
	key, inURL := wsKey(r)
	if inURL {
		s.warnKeyInURL(r)
	}
	var p Principal
	limitKey := "" // anonymous readers are capped per address only
	if key == "" && s.Config.WSPublic {
		p = Principal{Name: "public", Scope: ScopeRead}
	} else {
		var err error
		if p, err = s.authenticate(r, key); err != nil {
			s.Error(w, r, err)
			return
		}
		limitKey = p.Name
	}
	if !p.allows(ScopeRead) {
		s.Error(w, r, ivslive.Errorf(ivslive.EFORBIDDEN, "this key (%s) cannot read live stats", p.Name))
		return
	}
	// Caps are checked before the upgrade, so a refusal is an answer in
	// the envelope (429 or 503), and the slot is held until the close.
	release, err := s.conns.admit(s.Config.WSLimits, limitKey, addressKey(s.clientIP(r)))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	defer release()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{wsSubprotocol},
		OriginPatterns: originHosts(s.Config.CORSOrigins),
	})
	if err != nil {
		return // Accept has answered the client
	}
	conn.SetReadLimit(wsReadLimit)
	s.Hub.serve(r.Context(), conn, p)
}

// originHosts turns CORS_ORIGINS into the host patterns the WebSocket
// accepts from browsers on other origins (same-origin is always allowed).
func originHosts(origins []string) []string {
	var hosts []string
	for _, o := range origins {
		if o == "*" {
			return []string{"*"}
		}
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}

// wsClient is one connection: a bounded send queue drained by its writer,
// and the channels it subscribed to.
type wsClient struct {
	conn      *websocket.Conn
	principal Principal
	send      chan []byte

	mu       sync.Mutex
	channels map[string]bool

	closeOnce sync.Once
	done      chan struct{}
}

func (c *wsClient) subscribed(channel string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channels[channel]
}

func (c *wsClient) stages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var arns []string
	for ch := range c.channels {
		if arn, ok := strings.CutPrefix(ch, "stage:"); ok {
			arns = append(arns, arn)
		}
	}
	return arns
}

// enqueue queues a message without waiting; a client whose queue is full is
// too slow and is disconnected, so it never holds anyone else up.
func (c *wsClient) enqueue(msg []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- msg:
		return true
	default:
		// A client this far behind cannot read a close frame either: cut
		// the connection, which also frees its blocked writer at once.
		c.closeOnce.Do(func() {
			close(c.done)
			c.conn.CloseNow()
		})
		return false
	}
}

func (c *wsClient) close(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		close(c.done)
		go func() {
			// Close writes a close frame and waits (bounded) for the peer's.
			c.conn.Close(code, reason)
		}()
	})
}

func (c *wsClient) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// writeLoop sends queued messages and pings every pingEvery until the
// client is closed.
func (c *wsClient) writeLoop(ctx context.Context, pingEvery time.Duration) {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-ctx.Done():
			c.close(websocket.StatusGoingAway, "server shutting down")
			return
		case msg := <-c.send:
			wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
			err := c.conn.Write(wctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				c.close(websocket.StatusInternalError, "write failed")
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, wsPingTimeout)
			err := c.conn.Ping(pctx)
			cancel()
			if err != nil {
				c.close(websocket.StatusPolicyViolation, "no pong")
				return
			}
		}
	}
}

// clientMessage is what a client sends.
type clientMessage struct {
	Type    string `json:"type"`
	Channel string `json:"channel"`
}

// readLoop handles the client's commands until it disconnects.
func (h *Hub) readLoop(ctx context.Context, c *wsClient) {
	defer c.close(websocket.StatusNormalClosure, "")
	for {
		typ, data, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		var m clientMessage
		if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
			c.enqueue(h.errorMessage(ivslive.EVALIDATION, "messages are JSON text like {\"type\":\"subscribe\",\"channel\":\"stats\"}"))
			continue
		}
		switch m.Type {
		case "subscribe":
			h.subscribe(ctx, c, m.Channel)
		case "unsubscribe":
			c.mu.Lock()
			delete(c.channels, m.Channel)
			c.mu.Unlock()
			if m.Channel == "events" {
				h.listen(c, false)
			}
			c.enqueue(h.message(wsNotice{Type: "unsubscribed", Channel: m.Channel, Timestamp: h.stamp()}))
		case "ping":
			c.enqueue(h.message(wsPong{Type: "pong", Timestamp: h.stamp()}))
		default:
			c.enqueue(h.errorMessage(ivslive.EVALIDATION, "unknown message type; use subscribe, unsubscribe or ping"))
		}
	}
}

// subscribe checks the channel and the client's scope, confirms, and sends
// the channel's current state at once.
func (h *Hub) subscribe(ctx context.Context, c *wsClient, channel string) {
	switch {
	case channel == "stats":
	case channel == "events":
		if !c.principal.allows(ScopeAdmin) {
			c.enqueue(h.errorMessage(ivslive.EFORBIDDEN, "the events channel needs an admin key"))
			return
		}
	case strings.HasPrefix(channel, "stage:") && ivslive.ValidStageARN(strings.TrimPrefix(channel, "stage:")):
	default:
		c.enqueue(h.errorMessage(ivslive.EVALIDATION, "unknown channel; use stats, events or stage:<stage ARN>"))
		return
	}
	c.mu.Lock()
	if len(c.channels) >= maxChannels {
		c.mu.Unlock()
		c.enqueue(h.errorMessage(ivslive.EVALIDATION, fmt.Sprintf("at most %d channels per connection", maxChannels)))
		return
	}
	c.channels[channel] = true
	c.mu.Unlock()
	c.enqueue(h.message(wsNotice{Type: "subscribed", Channel: channel, Timestamp: h.stamp()}))
	if channel == "events" {
		h.listen(c, true)
		return
	}
	h.sendCurrent(ctx, c, channel)
}

// The messages the hub sends. Every one has a type; channel names what it
// is about; data or error carries the rest.

// wsNotice answers subscribe and unsubscribe.
type wsNotice struct {
	Type      string `json:"type"`
	Channel   string `json:"channel"`
	Timestamp string `json:"timestamp"`
}

type wsPong struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
}

// wsData is a push on a channel: an event, the stats, a stage's state.
type wsData[T any] struct {
	Type    string `json:"type"`
	Channel string `json:"channel"`
	Data    T      `json:"data"`
}

type wsError struct {
	Type      string      `json:"type"`
	Error     wsErrorBody `json:"error"`
	Timestamp string      `json:"timestamp"`
}

type wsErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// statsPush is the stats channel's data; viewerCount is the real-time
// count, as the Node server's dashboard read it.
type statsPush struct {
	ViewerCount int `json:"viewerCount"`
	liveCounts
	Stages    []stageState `json:"stages"`
	Timestamp string       `json:"timestamp"`
}
