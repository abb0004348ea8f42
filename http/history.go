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
	data := map[string]any{"userId": userID, "totalRecords": total, "history": history}
	if next != "" {
		data["nextToken"] = next
	}
	s.respond(w, http.StatusOK, data, "")
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
	s.respond(w, http.StatusOK, map[string]any{
		"stageArn": arn,
		"days":     days,
		"stats": map[string]any{
			"stageArn": arn, "totalViews": h.Stats.TotalViews, "uniqueViewers": h.Stats.UniqueViewers,
			"avgWatchDuration": h.Stats.AvgWatchSeconds, "maxWatchDuration": h.Stats.MaxWatchSeconds,
			"totalWatchSeconds": h.Stats.TotalWatchSeconds, "peakViewers": h.PeakViewers,
		},
		"series": map[string]any{
			"from": isoTime(h.Since), "to": isoTime(h.Until), "bucketSeconds": int64(h.Bucket.Seconds()), "points": points,
		},
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
	data := map[string]any{"totalRecords": total, "deadLetters": entries}
	if next != "" {
		data["nextToken"] = next
	}
	s.respond(w, http.StatusOK, data, "")
}
