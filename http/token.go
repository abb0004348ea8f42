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

func (q *userRequest) check() error {
	return missing("缺少 userId", map[string]string{"userId": q.UserID}, "userId")
}

// tokenAnswer is a participant token as the Node server sent it. A media
// server's token carries neither userId nor expiresIn.
type tokenAnswer struct {
	Token         string               `json:"token"`
	ParticipantID string               `json:"participantId"`
	UserID        string               `json:"userId,omitempty"`
	StageARN      string               `json:"stageArn"`
	Capabilities  []ivslive.Capability `json:"capabilities"`
	ExpiresAt     string               `json:"expiresAt"`
	ExpiresIn     *int64               `json:"expiresIn,omitempty"`
}

func (s *Server) tokenData(tok ivslive.Token) tokenAnswer {
	return tokenAnswer{
		Token: tok.Token, ParticipantID: tok.ParticipantID, UserID: tok.UserID, StageARN: tok.StageARN,
		Capabilities: tok.Capabilities, ExpiresAt: isoTime(tok.ExpiresAt),
		ExpiresIn: new(int64(tok.ExpiresAt.Sub(s.now()) / time.Second)),
	}
}

// publisherToken adds where and how the host publishes.
type publisherToken struct {
	tokenAnswer
	WhipEndpoint string              `json:"whipEndpoint"`
	Instructions publishInstructions `json:"instructions"`
}

type publishInstructions struct {
	OBS obsInstructions   `json:"obs"`
	Web map[string]string `json:"web"`
}

type obsInstructions struct {
	Service     string            `json:"service"`
	Server      string            `json:"server"`
	BearerToken string            `json:"bearerToken"`
	Settings    map[string]string `json:"settings"`
}

// viewerToken is a seat on a stage (mode realtime).
type viewerToken struct {
	tokenAnswer
	Mode           string `json:"mode"`
	CurrentViewers int    `json:"currentViewers"`
	IsNewViewer    bool   `json:"isNewViewer"`
	SessionID      string `json:"sessionId"`
	// PublisherParticipantID is the participant whose media IVS carries.
	PublisherParticipantID string `json:"publisherParticipantId"`
	SessionToken           string `json:"sessionToken,omitempty"`
}

// playbackGrant is a viewer sent to the channel (mode playback); the token
// and its expiry only for a private channel.
type playbackGrant struct {
	Mode                   string `json:"mode"`
	PlaybackURL            string `json:"playbackUrl"`
	UserID                 string `json:"userId"`
	StageARN               string `json:"stageArn"`
	ChannelARN             string `json:"channelArn"`
	CurrentViewers         int    `json:"currentViewers"`
	IsNewViewer            bool   `json:"isNewViewer"`
	SessionID              string `json:"sessionId"`
	PublisherParticipantID string `json:"publisherParticipantId"`
	PlaybackToken          string `json:"playbackToken,omitempty"`
	ExpiresAt              string `json:"expiresAt,omitempty"`
	SessionToken           string `json:"sessionToken,omitempty"`
}

type publisherEnded struct {
	Ended         bool   `json:"ended"`
	ParticipantID string `json:"participantId"`
	UserID        string `json:"userId"`
	StageARN      string `json:"stageArn"`
	JoinedAt      string `json:"joinedAt"`
	EndedAt       string `json:"endedAt"`
}

func (s *Server) handlePublisherToken(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if !s.bind(w, r, &req) {
		return
	}
	tok, stage, err := s.Live.PublisherToken(r.Context(), req.UserID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, publisherToken{
		tokenAnswer:  s.tokenData(tok),
		WhipEndpoint: stage.Endpoints.WHIP,
		Instructions: publishInstructions{
			OBS: obsInstructions{
				Service: "WHIP", Server: stage.Endpoints.WHIP, BearerToken: "<使用上方的 token>",
				Settings: map[string]string{
					"resolution": "1280x720", "bitrate": "2500 kbps", "keyframeInterval": "1s",
					"cpuPreset": "ultrafast", "tune": "zerolatency",
				},
			},
			Web: map[string]string{"sdk": "amazon-ivs-web-broadcast", "method": "Stage.join(token)"},
		},
	}, "")
}

type endPublisherRequest struct {
	ParticipantID string `json:"participantId"`
	Disconnect    bool   `json:"disconnect"`
}

func (s *Server) handlePublisherEnd(w http.ResponseWriter, r *http.Request) {
	var req endPublisherRequest
	if !s.bind(w, r, &req) {
		return
	}
	pub, err := s.Live.EndPublisher(r.Context(), req.ParticipantID, req.Disconnect)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, publisherEnded{
		Ended: true, ParticipantID: pub.ParticipantID, UserID: pub.UserID, StageARN: pub.StageARN,
		JoinedAt: isoTime(pub.JoinedAt), EndedAt: isoTime(s.now()),
	}, "直播已結束")
}

type mediaServerRequest struct {
	ServerID string `json:"serverId"`
	StageARN string `json:"stageArn"`
}

func (q *mediaServerRequest) check() error {
	return missing("缺少必要參數", map[string]string{"serverId": q.ServerID, "stageArn": q.StageARN}, "serverId", "stageArn")
}

// handleMediaServerToken also requires x-internal-secret, and fails closed
// when INTERNAL_SECRET is unset (the Node server let requests through).
func (s *Server) handleMediaServerToken(w http.ResponseWriter, r *http.Request) {
	if !secretEqual(r.Header.Get("X-Internal-Secret"), s.Config.InternalSecret) {
		s.Error(w, r, &ivslive.Error{Code: ivslive.EFORBIDDEN})
		return
	}
	var req mediaServerRequest
	if !s.bind(w, r, &req) {
		return
	}
	tok, err := s.Live.MediaServerToken(r.Context(), req.ServerID, req.StageARN)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	data := s.tokenData(tok)
	data.UserID, data.ExpiresIn = "", nil
	s.respond(w, http.StatusOK, data, "")
}

type viewerTokenRequest struct {
	UserID   string `json:"userId"`
	StageARN string `json:"stageArn"`
	// Mode is "realtime" (insist on a seat), "playback" or "" (a seat
	// while there is one, else the channel).
	Mode string `json:"mode"`
}

func (q *viewerTokenRequest) check() error {
	return missing("缺少 userId", map[string]string{"userId": q.UserID}, "userId")
}

func (s *Server) handleViewerToken(w http.ResponseWriter, r *http.Request) {
	var req viewerTokenRequest
	if !s.bind(w, r, &req) {
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
	s.respond(w, http.StatusOK, viewerToken{
		tokenAnswer: s.tokenData(g.Token), Mode: g.Mode, CurrentViewers: g.Viewers, IsNewViewer: g.New,
		SessionID: g.Session.ID, PublisherParticipantID: g.Publisher.Source(),
		SessionToken: s.sessionToken(g.Session, g.Token.ExpiresAt),
	}, "")
}

// playbackData answers a viewer sent to the channel: no stage token, the
// playback URL (with the token appended for a private channel, as players
// expect) and the session to heartbeat, whose stageArn is the channel's.
func (s *Server) playbackData(g live.ViewerGrant) playbackGrant {
	data := playbackGrant{Mode: g.Mode, PlaybackURL: g.PlaybackURL, UserID: g.Session.UserID, StageARN: g.Session.StageARN,
		ChannelARN: g.Session.StageARN, CurrentViewers: g.Viewers, IsNewViewer: g.New, SessionID: g.Session.ID,
		PublisherParticipantID: g.Publisher.Source()}
	expires := s.Now().Add(24 * time.Hour)
	if g.PlaybackToken != "" {
		data.PlaybackToken = g.PlaybackToken
		data.PlaybackURL += "?token=" + g.PlaybackToken
		data.ExpiresAt = g.PlaybackExpires.UTC().Format(time.RFC3339)
		expires = g.PlaybackExpires
	}
	data.SessionToken = s.sessionToken(g.Session, expires)
	return data
}
