package emulator

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ivslive/ivslive/ivs/emulator/media"
)

// maxConnDuration is IVS's "participant publish or subscribe duration"
// quota: 24 hours, not adjustable.
const maxConnDuration = 24 * time.Hour

// conn is one WHIP (publish) or subscribe peer connection, known to its
// client by the resource id in its Location.
type conn struct {
	id      string
	st      *stage
	session *stageSession
	p       *participant
	publish bool
	remote  string // subscribe: the publisher's participant id
	src     *media.Source
	peer    *media.Peer // nil until the answer is ready
	// lostAt is when the connection was last not connected (from creation
	// until ICE and DTLS are up, and after a loss); zero while connected.
	lostAt      time.Time
	connectedAt time.Time
	// started says PUBLISH_STARTED (on the first RTP) or SUBSCRIBE_STARTED
	// (on connecting) was recorded, so the matching STOPPED is due.
	started bool
}

// sourceKey names the relay tracks of a participant in a stage.
func sourceKey(stageArn, participantID string) string {
	return stageArn + "|" + participantID
}

func splitSourceKey(key string) (stageArn, participantID string) {
	stageArn, participantID, _ = strings.Cut(key, "|")
	return stageArn, participantID
}

// mediaEngine starts the media plane on first use, so an emulator that only
// serves the control plane never binds a UDP socket.
func (e *Emulator) mediaEngine() (*media.Engine, error) {
	e.mediaMu.Lock()
	defer e.mediaMu.Unlock()
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	if e.engine != nil {
		return e.engine, nil
	}
	eng, err := media.NewEngine(media.Config{Addr: e.opts.MediaAddr, Logger: e.log.With("part", "media"), Delays: e.mediaDelays})
	if err != nil {
		return nil, fmt.Errorf("start the media plane: %w", err)
	}
	e.log.Info("ivs emulator: media plane listening", "udp", eng.Addr().String())
	e.engine = eng
	return eng, nil
}

// newConnLocked registers a connection being negotiated for p.
func (e *Emulator) newConnLocked(st *stage, s *stageSession, p *participant, publish bool, remote string, src *media.Source) *conn {
	id := randomAlnum(22) // ~131 bits: the resource URL is the capability to end it
	for e.conns[id] != nil {
		id = randomAlnum(22)
	}
	c := &conn{id: id, st: st, session: s, p: p, publish: publish, remote: remote, src: src, lostAt: e.now().UTC()}
	e.conns[id] = c
	p.conns[id] = c
	return c
}

// endConnLocked forgets a connection and walks the participant through what
// follows (PUBLISH_STOPPED or SUBSCRIBE_STOPPED, then LEFT if nothing else
// holds it). Its peer is closed when the lock is released (unlockClosing).
func (e *Emulator) endConnLocked(c *conn) {
	if e.conns[c.id] != c {
		return
	}
	delete(e.conns, c.id)
	delete(c.p.conns, c.id)
	if c.peer != nil {
		e.closing = append(e.closing, c.peer)
	}
	if c.started {
		if c.publish {
			if !c.p.virtual {
				e.stopPublishingLocked(c.st, c.session, c.p)
			}
		} else {
			e.recordLocked(c.st, c.session, c.p, participantEvent{Name: "SUBSCRIBE_STOPPED", RemoteParticipantID: c.remote,
				Replica: e.isReplicaLocked(c.session, c.remote)})
		}
	}
	e.leaveIfIdleLocked(c.st, c.session, c.p)
}

// unlockClosing releases the lock, then closes the peers of the connections
// that ended under it, and waits for them: closing waits for the media
// goroutines, whose hooks take the lock.
func (e *Emulator) unlockClosing() {
	peers := e.closing
	e.closing = nil
	e.mu.Unlock()
	closePeers(peers)
}

// unlockClosingLater is unlockClosing for hooks, which must not wait for
// their own peer: the peers close on goroutines of their own.
func (e *Emulator) unlockClosingLater() {
	peers := e.closing
	e.closing = nil
	if len(peers) > 0 {
		e.wg.Add(1)
	}
	e.mu.Unlock()
	if len(peers) > 0 {
		go func() {
			defer e.wg.Done()
			closePeers(peers)
		}()
	}
}

// closePeers closes peers in parallel and waits for them all.
func closePeers(peers []*media.Peer) {
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Close()
		}()
	}
	wg.Wait()
}

// hooks connects a peer's events to the lifecycle of conn id.
func (e *Emulator) hooks(id string) media.Hooks {
	return media.Hooks{
		Connected: func() { e.connected(id) },
		Lost:      func() { e.lost(id) },
		Closed:    func() { e.remoteClosed(id) },
		Media:     func() { e.mediaStarted(id) },
		Refused:   func(code string) { e.refused(id, code) },
	}
}

func (e *Emulator) connected(id string) {
	e.mu.Lock()
	c := e.conns[id]
	if c == nil {
		e.mu.Unlock()
		return
	}
	c.lostAt = time.Time{}
	if c.connectedAt.IsZero() {
		c.connectedAt = e.now().UTC()
	}
	subscribe := !c.publish && !c.started
	if subscribe {
		c.started = true
		e.recordLocked(c.st, c.session, c.p, participantEvent{Name: "SUBSCRIBE_STARTED", RemoteParticipantID: c.remote,
			Replica: e.isReplicaLocked(c.session, c.remote)})
	}
	e.mu.Unlock()
	if subscribe {
		// A new subscriber cannot decode until the next keyframe.
		c.src.RequestKeyframe()
	}
}

func (e *Emulator) lost(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.conns[id]; c != nil && c.lostAt.IsZero() {
		c.lostAt = e.now().UTC()
	}
}

// remoteClosed ends a connection its client closed (DTLS close_notify) at
// once: unlike a loss, it cannot come back, so its participant LEFT now,
// not ConnectionTimeout later.
func (e *Emulator) remoteClosed(id string) {
	e.mu.Lock()
	defer e.unlockClosingLater()
	if c := e.conns[id]; c != nil {
		e.log.Info("ivs emulator: connection closed by the client", "stage", c.st.Arn, "participant", c.p.ID)
		e.endConnLocked(c)
	}
}

func (e *Emulator) mediaStarted(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.conns[id]
	if c == nil || !c.publish || c.started {
		return
	}
	c.started = true
	e.startPublishingLocked(c.st, c.session, c.p)
}

func (e *Emulator) refused(id, code string) {
	e.mu.Lock()
	defer e.unlockClosingLater()
	c := e.conns[id]
	if c == nil {
		return
	}
	e.recordLocked(c.st, c.session, c.p, participantEvent{Name: "PUBLISH_ERROR", ErrorCode: code})
	e.log.Info("ivs emulator: publisher refused", "stage", c.st.Arn, "participant", c.p.ID, "errorCode", code)
	e.endConnLocked(c)
}

// isReplicaLocked says whether participant id of a session is a replica.
func (e *Emulator) isReplicaLocked(s *stageSession, id string) bool {
	p := s.participants[id]
	return p != nil && p.ReplicationType == replicationDst
}
