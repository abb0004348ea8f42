package http

import (
	"net/http"
)

type historyEntry struct {
	ID                   string `json:"id"`
	UserID               string `json:"userId"`
	StageARN             string `json:"stageArn"`
	ParticipantID        string `json:"participantId"`
	JoinedAt             string `json:"joinedAt"`
	LeftAt               string `json:"leftAt"`
	WatchDurationSeconds int64  `json:"watchDurationSeconds"`
	EndReason            string `json:"endReason"`
	// Mode is realtime (a stage seat) or playback (stageArn is the channel's).
	Mode      string `json:"mode"`
	UserAgent string `json:"userAgent"`
	IPAddress string `json:"ipAddress"`
}

func (s *Server) handleViewerHistory(w http.ResponseWriter, r *http.Request) {
	userID := r.PathValue("userId")
	after, limit, err := page(r, 10)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	records, next, total, err := s.Live.ViewerHistory(r.Context(), userID, after, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	history := make([]historyEntry, len(records))
	for i, c := range records {
		history[i] = historyEntry{
			ID: c.ID, UserID: c.UserID, StageARN: c.StageARN, ParticipantID: c.ParticipantID,
			JoinedAt: isoTime(c.JoinedAt), LeftAt: isoTime(c.LeftAt), WatchDurationSeconds: int64(c.WatchDuration().Seconds()),
			EndReason: string(c.Reason), Mode: c.Mode(), UserAgent: c.UserAgent, IPAddress: c.IP,
		}
	}
	s.respond(w, http.StatusOK, viewerHistory{UserID: userID, TotalRecords: total, History: history, NextToken: next}, "")
}

type seriesPoint struct {
	Time        string  `json:"time"`
	AvgViewers  float64 `json:"avgViewers"`
	PeakViewers int     `json:"peakViewers"`
}

func (s *Server) handleViewerStats(w http.ResponseWriter, r *http.Request) {
	arn := r.PathValue("stageArn")
	days, err := queryInt(r, "days", 7, 1, 365)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	h, err := s.Live.StageHistory(r.Context(), arn, days)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	points := make([]seriesPoint, len(h.Series))
	for i, b := range h.Series {
		points[i] = seriesPoint{Time: isoTime(b.Start), AvgViewers: b.AvgViewers, PeakViewers: b.PeakViewers}
	}
	s.respond(w, http.StatusOK, stageHistory{
		StageARN: arn,
		Days:     days,
		Stats: stageHistoryStats{
			StageARN: arn, TotalViews: h.Stats.TotalViews, UniqueViewers: h.Stats.UniqueViewers,
			AvgWatchDuration: h.Stats.AvgWatchSeconds, MaxWatchDuration: h.Stats.MaxWatchSeconds,
			TotalWatchSeconds: h.Stats.TotalWatchSeconds, PeakViewers: h.PeakViewers,
		},
		Series: series{From: isoTime(h.Since), To: isoTime(h.Until), BucketSeconds: int64(h.Bucket.Seconds()), Points: points},
	}, "")
}

type deadLetterEntry struct {
	ID        string `json:"id"`
	Source    string `json:"source"`
	SessionID string `json:"sessionId"`
	Record    string `json:"record"`
	Error     string `json:"error"`
	FailedAt  string `json:"failedAt"`
}

// handleDeadLetters lists the closed-session records the history store
// refused for their content, newest first. The records are users' data
// (user ids, addresses): admin keys only.
func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r, 20)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	letters, next, total, err := s.Live.DeadLetters(r.Context(), after, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	entries := make([]deadLetterEntry, len(letters))
	for i, l := range letters {
		entries[i] = deadLetterEntry{ID: l.Key, Source: l.Source, SessionID: l.SessionID, Record: l.Record, Error: l.Error, FailedAt: isoTime(l.FailedAt)}
	}
	s.respond(w, http.StatusOK, deadLetterList{TotalRecords: total, DeadLetters: entries, NextToken: next}, "")
}

// viewerHistory is a page of one viewer's sessions, newest first.
type viewerHistory struct {
	UserID       string         `json:"userId"`
	TotalRecords int            `json:"totalRecords"`
	History      []historyEntry `json:"history"`
	NextToken    string         `json:"nextToken,omitempty"`
}

// stageHistory is a stage's numbers over the last days: the Node server's
// stats (its names: avgWatchDuration is in seconds) and ivslive's series.
type stageHistory struct {
	StageARN string            `json:"stageArn"`
	Days     int               `json:"days"`
	Stats    stageHistoryStats `json:"stats"`
	Series   series            `json:"series"`
}

type stageHistoryStats struct {
	StageARN          string `json:"stageArn"`
	TotalViews        int    `json:"totalViews"`
	UniqueViewers     int    `json:"uniqueViewers"`
	AvgWatchDuration  int    `json:"avgWatchDuration"`
	MaxWatchDuration  int    `json:"maxWatchDuration"`
	TotalWatchSeconds int64  `json:"totalWatchSeconds"`
	PeakViewers       int    `json:"peakViewers"`
}

type series struct {
	From          string        `json:"from"`
	To            string        `json:"to"`
	BucketSeconds int64         `json:"bucketSeconds"`
	Points        []seriesPoint `json:"points"`
}

type deadLetterList struct {
	TotalRecords int               `json:"totalRecords"`
	DeadLetters  []deadLetterEntry `json:"deadLetters"`
	NextToken    string            `json:"nextToken,omitempty"`
}
