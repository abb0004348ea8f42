package live

import (
	"context"
	"time"

	"github.com/ivslive/ivslive"
)

// ViewerRequest is a viewer asking to watch.
type ViewerRequest struct {
	UserID string
	// StageARN, when set, must be a managed stage with room.
	StageARN  string
	UserAgent string
	IP        string
	// Mode asks for ModeRealtime (a guest who will publish: STAGE_FULL
	// when no seat is left) or ModePlayback; "" is a seat while there is
	// one, else playback when the channel is configured.
	Mode string
}

// ViewerGrant is a seated viewer with its token.
type ViewerGrant struct {
	Token   ivslive.Token
	Session ivslive.ViewerSession
	Viewers int
	New     bool
	// Publisher is the live publisher the viewer came to watch: a player
	// subscribes to its participant id.
	Publisher ivslive.Publisher
	// Mode is ModeRealtime (Token is set) or ModePlayback (PlaybackURL,
	// and PlaybackToken for a private channel).
	Mode            string
	PlaybackURL     string
	PlaybackToken   string
	PlaybackExpires time.Time
}

// ViewerToken seats a viewer on a stage and issues its SUBSCRIBE token. The
// stage is chosen from ivslive's own state (no AWS call), and the seat is
// taken atomically with the choice. A token that cannot be issued gives the
// seat back.
func (s *Service) ViewerToken(ctx context.Context, r ViewerRequest) (ViewerGrant, error) {
	if err := validateID("userId", r.UserID); err != nil {
		return ViewerGrant{}, err
	}
	if r.StageARN != "" && !ivslive.ValidStageARN(r.StageARN) {
		return ViewerGrant{}, ivslive.Errorf(ivslive.EVALIDATION, "stageArn is not a valid IVS stage ARN")
	}
	switch r.Mode {
	case "", ModeRealtime:
	case ModePlayback:
		if s.Playback == nil {
			return ViewerGrant{}, ivslive.Errorf(ivslive.EVALIDATION, "playback is not configured on this server")
		}
		if _, err := s.Presence.Publisher(ctx); err != nil {
			return ViewerGrant{}, err
		}
		return s.playbackViewer(ctx, r, nil)
	default:
		return ViewerGrant{}, ivslive.Errorf(ivslive.EVALIDATION, "mode must be realtime or playback")
	}
	g, err := s.realtimeViewer(ctx, r)
	if ivslive.ErrorCode(err) == ivslive.ESTAGEFULL && r.Mode == "" && r.StageARN == "" && s.Playback != nil {
		return s.playbackViewer(ctx, r, err)
	}
	return g, err
}

func (s *Service) realtimeViewer(ctx context.Context, r ViewerRequest) (ViewerGrant, error) {
	pub, err := s.Presence.Publisher(ctx)
	if err != nil {
		return ViewerGrant{}, err
	}
	res, err := s.Presence.Join(ctx, ivslive.JoinRequest{
		UserID: r.UserID, StageARN: r.StageARN, SessionID: newSessionID(),
		ParticipantID: ivslive.NewParticipantID(), UserAgent: userAgent(r.UserAgent), IP: ipText(r.IP),
		Now: s.now(), Threshold: s.Config.Threshold, Capacity: s.Config.Capacity,
	})
	if ivslive.ErrorCode(err) == ivslive.ESTAGEFULL && r.StageARN == "" {
		return ViewerGrant{}, s.poolFull(ctx, err)
	}
	if err != nil {
		return ViewerGrant{}, err
	}
	release := func() {
		if res.New {
			if rerr := s.Presence.Release(context.WithoutCancel(ctx), res.Session.StageARN, r.UserID, res.Session.ID); rerr != nil {
				s.Log.Error("could not give back a seat", "session", res.Session.ID, "err", rerr)
			}
		}
	}
	if res.New {
		if err := s.checkSubscriptions(ctx); err != nil {
			release()
			return ViewerGrant{}, err
		}
	}
	tok, err := s.issueViewerToken(ctx, res.Session)
	if err != nil {
		release()
		return ViewerGrant{}, err
	}
	s.observer().TokenIssued("viewer", s.Tokens.Strategy())
	if res.New {
		s.observer().SessionOpened()
		s.emit(ctx, ivslive.Event{Type: ivslive.EventViewerJoined, StageARN: res.Session.StageARN, UserID: r.UserID, SessionID: res.Session.ID, Viewers: count(res.Viewers)})
	}
	if res.Viewers >= s.Config.Threshold {
		s.nudge()
	}
	return ViewerGrant{Mode: ModeRealtime, Token: tok, Session: res.Session, Viewers: res.Viewers, New: res.New, Publisher: pub}, nil
}

func (s *Service) issueViewerToken(ctx context.Context, sess ivslive.ViewerSession) (ivslive.Token, error) {
	st, err := s.stage(ctx, sess.StageARN)
	if err != nil {
		return ivslive.Token{}, err
	}
	tok, err := s.Tokens.IssueToken(ctx, ivslive.TokenRequest{
		Stage:         st,
		UserID:        viewerPrefix + sess.UserID,
		ParticipantID: sess.ParticipantID,
		Capabilities:  []ivslive.Capability{ivslive.Subscribe},
		Duration:      s.Config.ViewerTokenTTL,
		Attributes:    map[string]string{"role": "viewer", "timestamp": isoTime(s.now())},
	})
	if err != nil {
		return tok, err
	}
	if tok.ParticipantID != sess.ParticipantID { // API tokens choose their own id
		if err := s.Presence.SetParticipant(ctx, sess.StageARN, sess.UserID, sess.ID, tok.ParticipantID); err != nil {
			return ivslive.Token{}, err
		}
	}
	return tok, nil
}

// Rejoin puts a viewer back on a stage after a reconnect. A live session is
// kept (same id, same joined-at); otherwise a new one starts, within capacity.
func (s *Service) Rejoin(ctx context.Context, r ViewerRequest, participantID string) (ivslive.JoinResult, error) {
	if err := validateID("userId", r.UserID); err != nil {
		return ivslive.JoinResult{}, err
	}
	if !ivslive.ValidStageARN(r.StageARN) {
		return ivslive.JoinResult{}, ivslive.Errorf(ivslive.EVALIDATION, "stageArn is not a valid IVS stage ARN")
	}
	if err := ivslive.CheckID("participantId", participantID, 64); err != nil {
		return ivslive.JoinResult{}, err
	}
	res, err := s.Presence.Join(ctx, ivslive.JoinRequest{
		UserID: r.UserID, StageARN: r.StageARN, SessionID: newSessionID(), ParticipantID: participantID,
		UserAgent: userAgent(r.UserAgent), IP: ipText(r.IP), Now: s.now(), Threshold: s.Config.Threshold, Capacity: s.Config.Capacity,
	})
	if err == nil && res.New {
		s.observer().SessionOpened()
		s.emit(ctx, ivslive.Event{Type: ivslive.EventViewerJoined, StageARN: res.Session.StageARN, UserID: r.UserID, SessionID: res.Session.ID, Viewers: count(res.Viewers)})
	}
	return res, err
}

// Heartbeat keeps a live session alive. sessionID, when set, must match.
func (s *Service) Heartbeat(ctx context.Context, userID, stageARN, sessionID string) error {
	err := s.presenceFor(stageARN).Heartbeat(ctx, ivslive.HeartbeatRequest{StageARN: stageARN, UserID: userID, SessionID: sessionID, Now: s.now()})
	s.observer().Heartbeat(err == nil)
	return err
}

// Leave ends a live session.
func (s *Service) Leave(ctx context.Context, userID, stageARN, sessionID string) (ivslive.ClosedSession, error) {
	c, err := s.presenceFor(stageARN).Leave(ctx, ivslive.LeaveRequest{StageARN: stageARN, UserID: userID, SessionID: sessionID, Now: s.now(), Reason: ivslive.EndLeave})
	if err == nil {
		s.emitClosed(ctx, []ivslive.ClosedSession{c}, ivslive.EndLeave)
	}
	return c, err
}

// Viewers lists the live sessions on a stage.
func (s *Service) Viewers(ctx context.Context, stageARN string) ([]ivslive.ViewerSession, error) {
	if !ivslive.ValidStageARN(stageARN) {
		return nil, ivslive.Errorf(ivslive.EVALIDATION, "stageArn is not a valid IVS stage ARN")
	}
	return s.Presence.Viewers(ctx, stageARN)
}

// WatchDuration returns how long a viewer has watched a stage in its live
// session, and false when the viewer has no live session there.
func (s *Service) WatchDuration(ctx context.Context, userID, stageARN string) (time.Duration, bool, error) {
	sess, err := s.Presence.Session(ctx, stageARN, userID)
	if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return s.now().Sub(sess.JoinedAt), true, nil
}

// userAgent and ipText bound the free text a session keeps, cut on a rune
// boundary and valid UTF-8, before it reaches presence and then history.
func userAgent(ua string) string { return ivslive.StoredText(ua, ivslive.MaxUserAgent) }
func ipText(ip string) string    { return ivslive.StoredText(ip, ivslive.MaxIPText) }

func newSessionID() string { return "vs-" + ivslive.RandomID(20) }
