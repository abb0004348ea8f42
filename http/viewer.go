package http

import (
	"fmt"
	"net/http"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/live"
)

type viewerRequest struct {
	UserID        string `json:"userId"`
	StageARN      string `json:"stageArn"`
	ParticipantID string `json:"participantId"`
	SessionID     string `json:"sessionId"`
}

// rejoinRequest is a viewer's body that must name all three.
type rejoinRequest struct{ viewerRequest }

func (q *rejoinRequest) check() error {
	return missing("缺少必要參數", map[string]string{"userId": q.UserID, "stageArn": q.StageARN, "participantId": q.ParticipantID},
		"userId", "stageArn", "participantId")
}

func (s *Server) handleViewerRejoin(w http.ResponseWriter, r *http.Request) {
	var req rejoinRequest
	if !s.bind(w, r, &req) {
		return
	}
	res, err := s.Live.Rejoin(r.Context(), live.ViewerRequest{UserID: req.UserID, StageARN: req.StageARN, UserAgent: r.UserAgent(), IP: s.clientIP(r)}, req.ParticipantID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, rejoinAnswer{
		UserID: req.UserID, StageARN: req.StageARN, ParticipantID: req.ParticipantID,
		CurrentViewers: res.Viewers, IsNewViewer: res.New, SessionID: res.Session.ID,
		JoinedAt: isoTime(res.Session.JoinedAt), SessionToken: s.sessionToken(res.Session, time.Time{}),
	}, "重新加入成功")
}

// decodeViewer reads the userId/stageArn pair heartbeat and leave take. With
// a session token the pair comes from the token (a body may repeat it, but
// not name anyone else) and the session must be the token's.
func (s *Server) decodeViewer(w http.ResponseWriter, r *http.Request) (viewerRequest, error) {
	var req viewerRequest
	if err := s.decode(w, r, &req); err != nil {
		return req, err
	}
	if p, ok := PrincipalOf(r.Context()); ok && p.Session != nil {
		c := p.Session
		if (req.UserID != "" && req.UserID != c.UserID) || (req.StageARN != "" && req.StageARN != c.StageARN) ||
			(req.SessionID != "" && req.SessionID != c.SessionID) {
			return req, ivslive.Errorf(ivslive.EFORBIDDEN, "a session token may only act on its own session")
		}
		req.UserID, req.StageARN, req.SessionID = c.UserID, c.StageARN, c.SessionID
	}
	if req.UserID == "" || req.StageARN == "" {
		return req, missing("缺少必要參數", map[string]string{"userId": req.UserID, "stageArn": req.StageARN}, "userId", "stageArn")
	}
	// A playback viewer's session is on the channel.
	if !ivslive.ValidStageARN(req.StageARN) && !ivslive.ValidChannelARN(req.StageARN) {
		return req, ivslive.Errorf(ivslive.EVALIDATION, "stageArn is not a valid IVS stage ARN")
	}
	return req, nil
}

func (s *Server) handleViewerHeartbeat(w http.ResponseWriter, r *http.Request) {
	req, err := s.decodeViewer(w, r)
	if err == nil {
		err = s.Live.Heartbeat(r.Context(), req.UserID, req.StageARN, req.SessionID)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, heartbeatData{UserID: req.UserID, StageARN: req.StageARN, HeartbeatUpdated: true}, "心跳更新成功")
}

// heartbeatData is a struct, not a map: the heartbeat is the hottest route.
type heartbeatData struct {
	UserID           string `json:"userId"`
	StageARN         string `json:"stageArn"`
	HeartbeatUpdated bool   `json:"heartbeatUpdated"`
}

func (s *Server) handleViewerLeave(w http.ResponseWriter, r *http.Request) {
	req, err := s.decodeViewer(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	closed, err := s.Live.Leave(r.Context(), req.UserID, req.StageARN, req.SessionID)
	switch ivslive.ErrorCode(err) {
	case "":
		s.respond(w, http.StatusOK, leaveAnswer{
			UserID: req.UserID, StageARN: req.StageARN, ViewerLeft: true,
			SessionID: closed.ID, WatchDurationSeconds: new(int64(closed.WatchDuration() / time.Second)),
		}, "觀眾離開記錄成功")
	case ivslive.ENOTFOUND:
		// Leaving twice is not an error (the Node server answered 200 too),
		// but the answer says nothing was closed.
		s.respond(w, http.StatusOK, leaveAnswer{UserID: req.UserID, StageARN: req.StageARN}, "觀眾不在線上")
	default:
		s.Error(w, r, err)
	}
}

func (s *Server) handleViewerList(w http.ResponseWriter, r *http.Request) {
	arn, err := stageARN(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	sessions, err := s.Live.Viewers(r.Context(), arn)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	users := make([]string, len(sessions))
	for i, v := range sessions {
		users[i] = v.UserID
	}
	s.respond(w, http.StatusOK, viewerList{StageARN: arn, TotalViewers: len(users), ActiveViewers: len(users), Viewers: users}, "")
}

func (s *Server) handleViewerDuration(w http.ResponseWriter, r *http.Request) {
	userID, err := query(r, "userId")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	arn, err := query(r, "stageArn")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := missing("缺少必要參數", map[string]string{"userId": userID, "stageArn": arn}, "userId", "stageArn"); err != nil {
		s.Error(w, r, err)
		return
	}
	if !ivslive.ValidStageARN(arn) {
		s.Error(w, r, ivslive.Errorf(ivslive.EVALIDATION, "stageArn is not a valid IVS stage ARN"))
		return
	}
	d, active, err := s.Live.WatchDuration(r.Context(), userID, arn)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	secs := int64(d / time.Second)
	s.respond(w, http.StatusOK, watchDuration{
		UserID: userID, StageARN: arn, WatchDurationSeconds: secs, Active: active,
		WatchDurationFormatted: fmt.Sprintf("%d分 %d秒", secs/60, secs%60),
	}, "")
}

// SessionTokenLifetime is how long a viewer session token lasts from its
// issue: IVS's limit on one participant's subscribe duration (24 h, not
// adjustable). IVS checks a participant token's exp only at join, so a
// viewer stays connected past its 1 h IVS token; its presence must too,
// or a long show loses every viewer from the count after an hour.
const SessionTokenLifetime = 24 * time.Hour

// sessionToken signs a session token for a seated viewer, valid for
// SessionTokenLifetime, or until ivsExp (the IVS token's expiry) when that
// is later; "" when session tokens are off.
func (s *Server) sessionToken(v ivslive.ViewerSession, ivsExp time.Time) string {
	if s.Sessions == nil {
		return ""
	}
	exp := s.now().Add(SessionTokenLifetime)
	if ivsExp.After(exp) {
		exp = ivsExp
	}
	return s.Sessions.Sign(ivslive.SessionClaims{SessionID: v.ID, UserID: v.UserID, StageARN: v.StageARN, Expires: exp.Unix()})
}

type rejoinAnswer struct {
	UserID         string `json:"userId"`
	StageARN       string `json:"stageArn"`
	ParticipantID  string `json:"participantId"`
	CurrentViewers int    `json:"currentViewers"`
	IsNewViewer    bool   `json:"isNewViewer"`
	SessionID      string `json:"sessionId"`
	JoinedAt       string `json:"joinedAt"`
	// SessionToken is sent when the server signs session tokens.
	SessionToken string `json:"sessionToken,omitempty"`
}

// leaveAnswer: the session and its duration only when one was closed.
type leaveAnswer struct {
	UserID               string `json:"userId"`
	StageARN             string `json:"stageArn"`
	ViewerLeft           bool   `json:"viewerLeft"`
	SessionID            string `json:"sessionId,omitempty"`
	WatchDurationSeconds *int64 `json:"watchDurationSeconds,omitempty"`
}

type viewerList struct {
	StageARN      string   `json:"stageArn"`
	TotalViewers  int      `json:"totalViewers"`
	ActiveViewers int      `json:"activeViewers"`
	Viewers       []string `json:"viewers"`
}

type watchDuration struct {
	UserID                 string `json:"userId"`
	StageARN               string `json:"stageArn"`
	WatchDurationSeconds   int64  `json:"watchDurationSeconds"`
	Active                 bool   `json:"active"`
	WatchDurationFormatted string `json:"watchDurationFormatted"`
}
