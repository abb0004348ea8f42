package http

import (
	"net/http"

	"github.com/ivslive/ivslive"
)

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.Live.Stats(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	stages := make([]stageSummary, len(st.Stages))
	for i, v := range st.Stages {
		stages[i] = toSummary(v)
	}
	data := map[string]any{
		"totalViewers":    st.TotalViewers + st.PlaybackViewers,
		"realtimeViewers": st.TotalViewers,
		"playbackViewers": st.PlaybackViewers,
		"activeStages":    len(st.Stages) - st.DrainingStages,
		"drainingStages":  st.DrainingStages,
		"isPublisherLive": st.PublisherLive,
		"capacityLeft":    st.CapacityLeft,
		"stages":          stages,
		"scaling": map[string]any{
			"enabled":             s.Live.Config.AutoScale,
			"autoScaledStages":    st.AutoScaled,
			"maxAutoScaledStages": s.Live.Config.MaxReplicas,
			"canGrow":             st.ScalingBlocker == "",
			"blocker":             st.ScalingBlocker,
		},
	}
	if s.Live.Playback != nil {
		data["playback"] = st.Playback
	}
	for k, v := range map[string]*int{"ivsConnected": st.IVSConnected, "drift": st.Drift, "withoutHost": st.WithoutHost} {
		if v != nil {
			data[k] = *v
		}
	}
	s.respond(w, http.StatusOK, data, "")
}

func (s *Server) handleStatsViewers(w http.ResponseWriter, r *http.Request) {
	st, err := s.Live.Stats(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, map[string]any{"totalViewers": st.TotalViewers + st.PlaybackViewers,
		"realtimeViewers": st.TotalViewers, "playbackViewers": st.PlaybackViewers, "calculatedFrom": "real-time sum"}, "")
}

func (s *Server) handleStatsStages(w http.ResponseWriter, r *http.Request) {
	arn, err := query(r, "arn")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	st, err := s.Live.Stats(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if arn != "" {
		if !ivslive.ValidStageARN(arn) {
			s.Error(w, r, ivslive.Errorf(ivslive.EVALIDATION, "arn is not a valid IVS stage ARN"))
			return
		}
		data := map[string]any{"stageArn": arn, "viewerCount": 0, "stageInfo": nil}
		for _, v := range st.Stages {
			if v.ARN == arn {
				data["viewerCount"], data["stageInfo"] = v.Viewers, toSummary(v)
			}
		}
		s.respond(w, http.StatusOK, data, "")
		return
	}
	stages := make([]stageSummary, len(st.Stages))
	for i, v := range st.Stages {
		stages[i] = toSummary(v)
	}
	s.respond(w, http.StatusOK, map[string]any{"totalStages": len(stages), "stages": stages}, "")
}

func (s *Server) handleStatsStage(w http.ResponseWriter, r *http.Request) {
	v, err := s.Live.StageByID(r.Context(), r.PathValue("stageId"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, map[string]any{
		"stageId": v.ID(), "stageArn": v.ARN, "viewerCount": v.Viewers, "stageInfo": toSummary(v),
	}, "")
}

func (s *Server) handleStatsPublisher(w http.ResponseWriter, r *http.Request) {
	pub, err := s.Live.PublisherInfo(r.Context())
	switch ivslive.ErrorCode(err) {
	case "":
		s.respond(w, http.StatusOK, map[string]any{"isPublisherLive": true, "participantId": pub.ParticipantID,
			"userId": pub.UserID, "joinedAt": isoTime(pub.JoinedAt), "expiresAt": isoTime(pub.ExpiresAt),
			"publishing": pub.Publishing, "publishingParticipantId": pub.Source()}, "")
	case ivslive.ENOTFOUND:
		s.respond(w, http.StatusOK, map[string]any{"isPublisherLive": false}, "")
	default:
		s.Error(w, r, err)
	}
}
