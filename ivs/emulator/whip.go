package emulator

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/ivslive/ivslive/ivs/emulator/media"
)

// serveWHIP serves the data plane, every path of it under /whip/ (so a
// proxy in front can tell it from the control plane):
//
//	POST   /whip/{stageId}                              publish (WHIP)
//	POST   /whip/{stageId}/subscribe/{participantId}    subscribe (WHEP-style)
//	DELETE /whip/{stageId}/resource/{resourceId}        end either
//	OPTIONS on any of them                              CORS preflight
//
// Every answer allows any origin: the bearer token, not a cookie, is the
// credential, so a page on another origin may publish.
func (e *Emulator) serveWHIP(w http.ResponseWriter, r *http.Request, reqID string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Location, Link, x-amzn-RequestId")
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/whip/"), "/")
	stageID := parts[0]
	var err error
	switch {
	case r.Method == http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "POST, DELETE, PATCH, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
		h.Set("Access-Control-Max-Age", "600")
		h.Set("Accept-Post", "application/sdp")
		w.WriteHeader(http.StatusNoContent)
		return
	case !e.re.stageID.MatchString(stageID):
		err = notFoundErr("no WHIP endpoint at %s", r.URL.Path)
	case len(parts) == 1:
		err = allowMethod(r, http.MethodPost)
		if err == nil {
			err = e.whipPublish(w, r, stageID)
		}
	case len(parts) == 3 && parts[1] == "subscribe":
		err = allowMethod(r, http.MethodPost)
		if err == nil {
			err = e.whipSubscribe(w, r, stageID, parts[2])
		}
	case len(parts) == 3 && parts[1] == "resource":
		// Trickle ICE (PATCH) is not supported: the answer carries every
		// candidate the emulator has.
		err = allowMethod(r, http.MethodDelete)
		if err == nil {
			err = e.whipDelete(w, stageID, parts[2])
		}
	default:
		err = notFoundErr("no WHIP endpoint at %s", r.URL.Path)
	}
	if err == nil {
		e.log.Debug("ivs emulator data plane request", "method", r.Method, "path", r.URL.Path, "requestId", reqID)
		return
	}
	// Refusals are logged at info: they explain why OBS or a page fails.
	e.fail(w, r, "WHIP", reqID, slog.LevelInfo, err)
}

// readOffer reads an application/sdp request body.
func readOffer(r *http.Request) (string, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/sdp" {
		return "", &apiError{Type: "UnsupportedMediaTypeException", Status: http.StatusUnsupportedMediaType,
			Message: "the offer must be sent as Content-Type: application/sdp"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, media.MaxOfferBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", &apiError{Type: "ValidationException", Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("the offer is larger than %d bytes", media.MaxOfferBytes)}
		}
		return "", validationErr("read the offer: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return "", validationErr("the request has no SDP offer")
	}
	return string(body), nil
}

// joinRequest is what publish and subscribe have in common: the offer, the
// stage, and the verified token.
type joinRequest struct {
	offer  string
	st     *stage
	claims *tokenClaims
}

func (e *Emulator) readJoin(r *http.Request, stageID string) (joinRequest, error) {
	if f := e.takeFault("WHIP"); f != nil {
		return joinRequest{}, f
	}
	offer, err := readOffer(r)
	if err != nil {
		return joinRequest{}, err
	}
	arn := e.arn("stage", stageID)
	e.mu.Lock()
	st, err := e.findStageLocked(arn)
	closed := e.closed
	e.mu.Unlock()
	if err != nil {
		return joinRequest{}, err
	}
	if closed {
		return joinRequest{}, errClosed
	}
	claims, err := e.verifyJoin(r, st)
	if err != nil {
		return joinRequest{}, err
	}
	return joinRequest{offer: offer, st: st, claims: claims}, nil
}

// lockForJoin starts the media plane if need be, then takes the lock and
// finds the session and participant record j joins. On success the caller
// holds e.mu.
func (e *Emulator) lockForJoin(j joinRequest) (*media.Engine, *stageSession, *participant, error) {
	eng, err := e.mediaEngine()
	if err != nil {
		return nil, nil, nil, err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, nil, nil, errClosed
	}
	s := e.activeSessionLocked(j.st)
	return eng, s, e.participantLocked(s, j.claims.identity()), nil
}

// refuseLocked records a refused join (JOIN_ERROR, PUBLISH_ERROR or
// SUBSCRIBE_ERROR with its error code) for the token's participant, and
// returns the answer for the client.
func (e *Emulator) refuseLocked(j joinRequest, ev participantEvent, status int, format string, args ...any) error {
	s := e.activeSessionLocked(j.st)
	p := e.participantLocked(s, j.claims.identity())
	e.recordLocked(j.st, s, p, ev)
	e.settleSessionLocked(s)
	typ := "AccessDeniedException"
	switch status {
	case http.StatusConflict:
		typ = "ServiceQuotaExceededException"
	case http.StatusNotFound:
		typ = "ResourceNotFoundException"
	case http.StatusUnprocessableEntity:
		typ = "ValidationException"
	}
	return &apiError{Type: typ, Status: status, Code: ev.ErrorCode, Message: fmt.Sprintf(format, args...)}
}

func (e *Emulator) whipPublish(w http.ResponseWriter, r *http.Request, stageID string) error {
	j, err := e.readJoin(r, stageID)
	if err != nil {
		return err
	}
	if !j.claims.Capabilities.AllowPublish {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.refuseLocked(j, participantEvent{Name: "JOIN_ERROR", ErrorCode: "INSUFFICIENT_CAPABILITIES"},
			http.StatusForbidden, "the participant token does not allow publishing")
	}
	code, err := media.CheckPublishOffer(j.offer)
	if err != nil {
		return validationErr("%v", err)
	}
	if code != "" {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.refuseLocked(j, participantEvent{Name: "PUBLISH_ERROR", ErrorCode: code}, http.StatusUnprocessableEntity,
			"IVS takes H.264 baseline video and Opus audio over WHIP; a section of the offer has neither (%s)", code)
	}
	eng, s, p, err := e.lockForJoin(j)
	if err != nil {
		return err
	}
	old := p.publishConn()
	if !p.publishing && old == nil && publishersLocked(s, p.ID) >= e.opts.Quotas.PublishersPerStage {
		err := e.refuseLocked(j, participantEvent{Name: "JOIN_ERROR", ErrorCode: "QUOTA_EXCEEDED"}, http.StatusConflict,
			"stage %s already has %d publishers, the most IVS allows", j.st.Arn, e.opts.Quotas.PublishersPerStage)
		e.mu.Unlock()
		return err
	}
	src := e.sourceLocked(j.st.Arn, p.ID)
	e.joinLocked(j.st, s, p)
	c := e.newConnLocked(j.st, s, p, true, "", src)
	if old != nil {
		// One publishing connection per participant: a client that
		// reconnects replaces the connection it lost.
		e.endConnLocked(old)
	}
	e.unlockClosing()

	peer, answer, err := eng.Publish(j.offer, src, e.hooks(c.id))
	return e.answer(w, r, c, peer, answer, err)
}

func (e *Emulator) whipSubscribe(w http.ResponseWriter, r *http.Request, stageID, remote string) error {
	j, err := e.readJoin(r, stageID)
	if err != nil {
		return err
	}
	if !j.claims.Capabilities.AllowSubscribe {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.refuseLocked(j, participantEvent{Name: "JOIN_ERROR", ErrorCode: "INSUFFICIENT_CAPABILITIES"},
			http.StatusForbidden, "the participant token does not allow subscribing")
	}
	if err := media.CheckSubscribeOffer(j.offer); err != nil {
		return validationErr("%v", err)
	}
	eng, s, p, err := e.lockForJoin(j)
	if err != nil {
		return err
	}
	pub := s.participants[remote]
	src := e.sources[sourceKey(j.st.Arn, remote)]
	subscribed := false
	for _, c := range p.conns {
		subscribed = subscribed || !c.publish
	}
	switch {
	case pub == nil || !pub.publishing:
		err = e.refuseLocked(j, participantEvent{Name: "SUBSCRIBE_ERROR", ErrorCode: "PUBLISHER_NOT_FOUND", RemoteParticipantID: remote},
			http.StatusNotFound, "participant %q is not publishing in stage %s", remote, j.st.Arn)
	case src == nil || !src.HasMedia():
		e.settleSessionLocked(s)
		err = conflictErr("participant %q publishes without media (a virtual publisher, or a replica of one)", remote)
	case !subscribed && subscribersLocked(s, p.ID) >= e.opts.Quotas.SubscribersPerStage:
		err = e.refuseLocked(j, participantEvent{Name: "JOIN_ERROR", ErrorCode: "QUOTA_EXCEEDED"}, http.StatusConflict,
			"stage %s already has %d subscribers (quota %d)", j.st.Arn, e.opts.Quotas.SubscribersPerStage, e.opts.Quotas.SubscribersPerStage)
	}
	if err != nil {
		e.mu.Unlock()
		return err
	}
	e.joinLocked(j.st, s, p)
	c := e.newConnLocked(j.st, s, p, false, remote, src)
	e.mu.Unlock()

	peer, answer, err := eng.Subscribe(j.offer, src, e.hooks(c.id))
	return e.answer(w, r, c, peer, answer, err)
}

// answer finishes a publish or subscribe: 201 with the SDP answer and the
// resource's Location, or the connection ends (LEFT) if negotiating failed
// or the participant was disconnected meanwhile.
func (e *Emulator) answer(w http.ResponseWriter, r *http.Request, c *conn, peer *media.Peer, answer string, err error) error {
	e.mu.Lock()
	if err != nil {
		e.endConnLocked(c)
		e.unlockClosing()
		if errors.Is(err, media.ErrBadOffer) {
			return validationErr("%v", err)
		}
		return internalErr(err)
	}
	if e.conns[c.id] != c {
		e.mu.Unlock()
		peer.Close()
		return conflictErr("the participant was disconnected while its connection was negotiated")
	}
	c.peer = peer
	e.mu.Unlock()
	w.Header().Set("Location", mountPrefix(r)+"/whip/"+c.st.ID+"/resource/"+c.id)
	w.Header().Set("Content-Type", "application/sdp")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
	return nil
}

func (e *Emulator) whipDelete(w http.ResponseWriter, stageID, id string) error {
	e.mu.Lock()
	c := e.conns[id]
	if c == nil || c.st.ID != stageID {
		e.mu.Unlock()
		return notFoundErr("no WHIP resource %s in stage %s (it ended, or never existed)", id, stageID)
	}
	e.endConnLocked(c)
	e.unlockClosing()
	w.WriteHeader(http.StatusOK)
	return nil
}

// mountPrefix is the path the emulator is mounted under (such as /ivs behind
// http.StripPrefix): what the request's original path has before the path
// the emulator sees. Locations built on it reach the emulator the same way.
func mountPrefix(r *http.Request) string {
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return ""
	}
	prefix, ok := strings.CutSuffix(u.EscapedPath(), r.URL.EscapedPath())
	if !ok {
		return ""
	}
	return prefix
}
