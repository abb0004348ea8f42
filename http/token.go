package http

import (
	"net/http"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/live"
)

type userRequest struct {
	UserID string `json:"userId"`
}

func (s *Server) tokenData(tok ivslive.Token) map[string]any {
	return map[string]any{
		"token":         tok.Token,
		"participantId": tok.ParticipantID,
		"userId":        tok.UserID,
		"stageArn":      tok.StageARN,
		"capabilities":  tok.Capabilities,
		"expiresAt":     isoTime(tok.ExpiresAt),
		"expiresIn":     int64(tok.ExpiresAt.Sub(s.now()) / time.Second),
	}
}

func (s *Server) handlePublisherToken(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if err := s.decode(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := missing("缺少 userId", map[string]string{"userId": req.UserID}, "userId"); err != nil {
		s.Error(w, r, err)
		return
	}
	tok, stage, err := s.Live.PublisherToken(r.Context(), req.UserID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	data := s.tokenData(tok)
	data["whipEndpoint"] = stage.Endpoints.WHIP
	data["instructions"] = map[string]any{
		"obs": map[string]any{
			"service":     "WHIP",
			"server":      stage.Endpoints.WHIP,
			"bearerToken": "<使用上方的 token>",
			"settings": map[string]string{
				"resolution": "1280x720", "bitrate": "2500 kbps", "keyframeInterval": "1s",
				"cpuPreset": "ultrafast", "tune": "zerolatency",
			},
		},
		"web": map[string]string{"sdk": "amazon-ivs-web-broadcast", "method": "Stage.join(token)"},
	}
	s.respond(w, http.StatusOK, data, "")
}

type endPublisherRequest struct {
	ParticipantID string `json:"participantId"`
	Disconnect    bool   `json:"disconnect"`
}

func (s *Server) handlePublisherEnd(w http.ResponseWriter, r *http.Request) {
	var req endPublisherRequest
	if err := s.decode(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	pub, err := s.Live.EndPublisher(r.Context(), req.ParticipantID, req.Disconnect)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, map[string]any{
		"ended": true, "participantId": pub.ParticipantID, "userId": pub.UserID, "stageArn": pub.StageARN,
		"joinedAt": isoTime(pub.JoinedAt), "endedAt": isoTime(s.now()),
	}, "直播已結束")
}

type mediaServerRequest struct {
	ServerID string `json:"serverId"`
	StageARN string `json:"stageArn"`
}

// handleMediaServerToken also requires x-internal-secret, and fails closed
// when INTERNAL_SECRET is unset (the Node server let requests through).
func (s *Server) handleMediaServerToken(w http.ResponseWriter, r *http.Request) {
	if !secretEqual(r.Header.Get("X-Internal-Secret"), s.Config.InternalSecret) {
		s.Error(w, r, ivslive.Errorf(ivslive.EFORBIDDEN, "無權訪問"))
		return
	}
	var req mediaServerRequest
	if err := s.decode(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := missing("缺少必要參數", map[string]string{"serverId": req.ServerID, "stageArn": req.StageARN}, "serverId", "stageArn"); err != nil {
		s.Error(w, r, err)
		return
	}
	tok, err := s.Live.MediaServerToken(r.Context(), req.ServerID, req.StageARN)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	data := s.tokenData(tok)
	delete(data, "expiresIn")
	delete(data, "userId")
	s.respond(w, http.StatusOK, data, "")
}

type viewerTokenRequest struct {
	UserID   string `json:"userId"`
	StageARN string `json:"stageArn"`
	// Mode is "realtime" (insist on a seat), "playback" or "" (a seat
	// while there is one, else the channel).
	Mode string `json:"mode"`
}

func (s *Server) handleViewerToken(w http.ResponseWriter, r *http.Request) {
	var req viewerTokenRequest
	if err := s.decode(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := missing("缺少 userId", map[string]string{"userId": req.UserID}, "userId"); err != nil {
		s.Error(w, r, err)
		return
	}
	g, err := s.Live.ViewerToken(r.Context(), live.ViewerRequest{
		UserID: req.UserID, StageARN: req.StageARN, UserAgent: r.UserAgent(), IP: s.clientIP(r), Mode: req.Mode,
	})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if g.Mode == live.ModePlayback {
		s.respond(w, http.StatusOK, s.playbackData(g), "")
		return
	}
	data := s.tokenData(g.Token)
	data["mode"] = g.Mode
	data["currentViewers"] = g.Viewers
	data["isNewViewer"] = g.New
	data["sessionId"] = g.Session.ID
	data["publisherParticipantId"] = g.Publisher.Source() // the one whose media IVS carries
	if tok := s.sessionToken(g.Session, g.Token.ExpiresAt); tok != "" {
		data["sessionToken"] = tok
	}
	s.respond(w, http.StatusOK, data, "")
}

// playbackData answers a viewer sent to the channel: no stage token, the
// playback URL (with the token appended for a private channel, as players
// expect) and the session to heartbeat, whose stageArn is the channel's.
func (s *Server) playbackData(g live.ViewerGrant) map[string]any {
	url := g.PlaybackURL
	data := map[string]any{"mode": g.Mode, "playbackUrl": url, "userId": g.Session.UserID, "stageArn": g.Session.StageARN,
		"channelArn": g.Session.StageARN, "currentViewers": g.Viewers, "isNewViewer": g.New, "sessionId": g.Session.ID,
		"publisherParticipantId": g.Publisher.Source()}
	expires := s.Now().Add(24 * time.Hour)
	if g.PlaybackToken != "" {
		data["playbackToken"] = g.PlaybackToken
		data["playbackUrl"] = url + "?token=" + g.PlaybackToken
		data["expiresAt"] = g.PlaybackExpires.UTC().Format(time.RFC3339)
		expires = g.PlaybackExpires
	}
	if tok := s.sessionToken(g.Session, expires); tok != "" {
		data["sessionToken"] = tok
	}
	return data
}
