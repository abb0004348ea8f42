// Package whipfake is a WHIP answerer with a WHEP-style playback path, for
// tests of WHIP clients (the whip package, `ivslive publish`, the demo pages)
// before and besides the IVS emulator's data plane. Publishers POST offers
// to /whip/{stageId}, subscribers to /whip/{stageId}/subscribe/{participantId};
// each publisher's RTP is forwarded to its subscribers as is, and their
// keyframe requests go back to it. /redirect/whip/{stageId} answers 307 to
// the same path on another host name (localhost for 127.0.0.1), as IVS's
// global WHIP host does.
//
// Participant tokens are read, not verified: the answerer checks what a
// client sends (bearer, capability, stage), not the signature, which is the
// emulator's business.
package whipfake

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/ivslive/ivslive/token"
)

// Request is one request the answerer received.
type Request struct {
	Method, Path, Host string
	// Authorization is the request's Authorization header.
	Authorization string
}

// Answerer answers WHIP offers. Mount Handler anywhere (with the prefix
// stripped), or use Start for a server of its own.
type Answerer struct {
	// KeepOnDelete makes DELETE forget a session without closing its peer
	// connection, like a server that never got the DELETE: a client's
	// Close must then free its side by itself.
	KeepOnDelete bool

	mu         sync.Mutex
	requests   []Request
	offers     []string
	kept       []*peer               // deleted with KeepOnDelete, closed by Close
	sessions   map[string]*peer      // by resource id
	publishers map[string]*publisher // by participant id
	next       int
}

// New returns an answerer whose peers are closed at the test's cleanup.
func New(t testing.TB) *Answerer {
	a := &Answerer{sessions: map[string]*peer{}, publishers: map[string]*publisher{}}
	t.Cleanup(a.Close)
	return a
}

// Start serves a new answerer on a loopback httptest server, closed at
// cleanup; its WHIP URL for a stage is URL + "/whip/" + stageID.
func Start(t testing.TB) (*Answerer, *httptest.Server) {
	a := New(t)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return a, srv
}

// Handler serves the WHIP, playback, DELETE and redirect paths.
func (a *Answerer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whip/{stage}", a.handlePublish)
	mux.HandleFunc("POST /whip/{stage}/subscribe/{participant}", a.handleSubscribe)
	mux.HandleFunc("DELETE /whip/session/{id}", a.handleDelete)
	mux.HandleFunc("POST /redirect/whip/{stage}", a.handleRedirect)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, Request{Method: r.Method, Path: r.URL.Path, Host: r.Host, Authorization: r.Header.Get("Authorization")})
		a.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

// Requests returns the requests received so far.
func (a *Answerer) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Request(nil), a.requests...)
}

// Offers returns the SDP offers received so far.
func (a *Answerer) Offers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.offers...)
}

// Sessions returns how many WHIP resources (publishers and subscribers)
// are open.
func (a *Answerer) Sessions() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sessions)
}

// Close closes every peer connection.
func (a *Answerer) Close() {
	a.mu.Lock()
	peers := make([]*peer, 0, len(a.sessions))
	for id, p := range a.sessions {
		peers = append(peers, p)
		delete(a.sessions, id)
	}
	peers, a.kept = append(peers, a.kept...), nil
	clear(a.publishers)
	a.mu.Unlock()
	for _, p := range peers {
		p.pc.GracefulClose()
	}
}

// claims reads the bearer token's claims and checks its stage and
// capability, answering the refusal itself when they do not do.
func (a *Answerer) claims(w http.ResponseWriter, r *http.Request, publish bool) (*token.Claims, bool) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || bearer == "" {
		http.Error(w, "missing bearer token", http.StatusUnauthorized)
		return nil, false
	}
	c, err := token.Inspect(bearer)
	if err != nil {
		http.Error(w, "malformed participant token: "+err.Error(), http.StatusUnauthorized)
		return nil, false
	}
	switch {
	case c.Topic != r.PathValue("stage"):
		http.Error(w, "the token is for stage "+c.Topic+", not "+r.PathValue("stage"), http.StatusForbidden)
		return nil, false
	case publish && !c.Capabilities.AllowPublish:
		http.Error(w, "the token does not allow publishing (INSUFFICIENT_CAPABILITIES)", http.StatusForbidden)
		return nil, false
	case !publish && !c.Capabilities.AllowSubscribe:
		http.Error(w, "the token does not allow subscribing (INSUFFICIENT_CAPABILITIES)", http.StatusForbidden)
		return nil, false
	}
	return c, true
}

// readOffer reads the SDP offer of a POST.
func (a *Answerer) readOffer(w http.ResponseWriter, r *http.Request) (string, bool) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/sdp") {
		http.Error(w, "Content-Type must be application/sdp, not "+ct, http.StatusUnsupportedMediaType)
		return "", false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "read the offer: "+err.Error(), http.StatusBadRequest)
		return "", false
	}
	a.mu.Lock()
	a.offers = append(a.offers, string(b))
	a.mu.Unlock()
	return string(b), true
}

func (a *Answerer) handlePublish(w http.ResponseWriter, r *http.Request) {
	c, ok := a.claims(w, r, true)
	if !ok {
		return
	}
	offer, ok := a.readOffer(w, r)
	if !ok {
		return
	}
	pub, err := newPublisher()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	err = pub.answerOffer(offer, func() error { return nil })
	if err != nil {
		pub.pc.GracefulClose()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	if old := a.publishers[c.ID]; old != nil {
		a.mu.Unlock()
		pub.pc.GracefulClose()
		http.Error(w, "participant "+c.ID+" is already publishing", http.StatusConflict)
		return
	}
	a.publishers[c.ID] = pub
	id := a.add(&pub.peer)
	pub.participant = c.ID
	a.mu.Unlock()
	created(w, "session/"+id, pub.local.SDP) // relative, wherever the handler is mounted
}

func (a *Answerer) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.claims(w, r, false); !ok {
		return
	}
	offer, ok := a.readOffer(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	pub := a.publishers[r.PathValue("participant")]
	a.mu.Unlock()
	if pub == nil {
		http.Error(w, "participant "+r.PathValue("participant")+" is not publishing", http.StatusNotFound)
		return
	}
	sub, err := pub.subscriber(offer)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	id := a.add(sub)
	a.mu.Unlock()
	created(w, "../../session/"+id, sub.local.SDP)
}

func (a *Answerer) handleDelete(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	p := a.sessions[r.PathValue("id")]
	delete(a.sessions, r.PathValue("id"))
	if p != nil && a.KeepOnDelete {
		a.kept = append(a.kept, p)
	}
	for id, pub := range a.publishers {
		if &pub.peer == p {
			delete(a.publishers, id)
		}
	}
	a.mu.Unlock()
	if p == nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	if !a.KeepOnDelete {
		p.pc.GracefulClose()
	}
	w.WriteHeader(http.StatusOK)
}

// handleRedirect sends the offer to the same path on the other loopback
// name, so the redirect changes host, as IVS's global endpoint does.
func (a *Answerer) handleRedirect(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, port, ok := strings.Cut(host, ":"); ok && h == "127.0.0.1" {
		host = "localhost:" + port
	}
	w.Header().Set("Location", "http://"+host+strings.Replace(r.URL.Path, "/redirect/whip/", "/whip/", 1))
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// add registers a session and returns its resource id; a.mu is held.
func (a *Answerer) add(p *peer) string {
	a.next++
	id := "s" + strconv.Itoa(a.next)
	a.sessions[id] = p
	return id
}

func created(w http.ResponseWriter, location string, answer string) {
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer)
}

// peer is one answered peer connection.
type peer struct {
	pc    *webrtc.PeerConnection
	local webrtc.SessionDescription
}

// answerOffer applies an offer, runs then (the tracks to send, if any)
// and makes the answer, with every candidate in it.
func (p *peer) answerOffer(offer string, then func() error) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fmt.Errorf("the offer: %w", err)
	}
	if err := then(); err != nil {
		return err
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	<-gathered
	if p.pc.LocalDescription() == nil {
		return errors.New("answer: no local description")
	}
	p.local = *p.pc.LocalDescription()
	return nil
}
