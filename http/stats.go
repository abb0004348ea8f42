package http

import (
	"net/http"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/live"
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
	data := statsAnswer{
		liveCounts: toLiveCounts(st),
		Stages:     stages,
		Scaling: scaling{
			Enabled:             s.Live.Config.AutoScale,
			AutoScaledStages:    st.AutoScaled,
			MaxAutoScaledStages: s.Live.Config.MaxReplicas,
			CanGrow:             st.ScalingBlocker == "",
			Blocker:             st.ScalingBlocker,
		},
		IVSConnected: st.IVSConnected, Drift: st.Drift, WithoutHost: st.WithoutHost,
	}
	if s.Live.Playback != nil {
		data.Playback = &st.Playback
	}
	s.respond(w, http.StatusOK, data, "")
}

func (s *Server) handleStatsViewers(w http.ResponseWriter, r *http.Request) {
	st, err := s.Live.Stats(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, viewerTotals{TotalViewers: st.TotalViewers + st.PlaybackViewers,
		RealtimeViewers: st.TotalViewers, PlaybackViewers: st.PlaybackViewers, CalculatedFrom: "real-time sum"}, "")
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
		data := stageStats{StageARN: arn}
		for _, v := range st.Stages {
			if v.ARN == arn {
				info := toSummary(v)
				data.ViewerCount, data.StageInfo = v.Viewers, &info
			}
		}
		s.respond(w, http.StatusOK, data, "")
		return
	}
	stages := make([]stageSummary, len(st.Stages))
	for i, v := range st.Stages {
		stages[i] = toSummary(v)
	}
	s.respond(w, http.StatusOK, stageStatsList{TotalStages: len(stages), Stages: stages}, "")
}

func (s *Server) handleStatsStage(w http.ResponseWriter, r *http.Request) {
	v, err := s.Live.StageByID(r.Context(), r.PathValue("stageId"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	info := toSummary(v)
	s.respond(w, http.StatusOK, stageStats{StageID: v.ID(), StageARN: v.ARN, ViewerCount: v.Viewers, StageInfo: &info}, "")
}

func (s *Server) handleStatsPublisher(w http.ResponseWriter, r *http.Request) {
	pub, err := s.Live.PublisherInfo(r.Context())
	switch ivslive.ErrorCode(err) {
	case "":
		s.respond(w, http.StatusOK, publisherStats{IsPublisherLive: true, livePublisher: new(toLivePublisher(pub))}, "")
	case ivslive.ENOTFOUND:
		s.respond(w, http.StatusOK, publisherStats{}, "")
	default:
		s.Error(w, r, err)
	}
}

// statsAnswer is GET /api/stats. IVS's view (ivsConnected, drift,
// withoutHost) only where known, playback only when it is configured.
type statsAnswer struct {
	liveCounts
	Stages       []stageSummary       `json:"stages"`
	Scaling      scaling              `json:"scaling"`
	Playback     *live.PlaybackStatus `json:"playback,omitempty"`
	IVSConnected *int                 `json:"ivsConnected,omitempty"`
	Drift        *int                 `json:"drift,omitempty"`
	WithoutHost  *int                 `json:"withoutHost,omitempty"`
}

type scaling struct {
	Enabled             bool   `json:"enabled"`
	AutoScaledStages    int    `json:"autoScaledStages"`
	MaxAutoScaledStages int    `json:"maxAutoScaledStages"`
	CanGrow             bool   `json:"canGrow"`
	Blocker             string `json:"blocker"`
}

type viewerTotals struct {
	TotalViewers    int    `json:"totalViewers"`
	RealtimeViewers int    `json:"realtimeViewers"`
	PlaybackViewers int    `json:"playbackViewers"`
	CalculatedFrom  string `json:"calculatedFrom"`
}

// stageStats is one stage's count; stageInfo is null for a stage ivslive
// does not manage, stageId is given on the by-id route only.
type stageStats struct {
	StageID     string        `json:"stageId,omitempty"`
	StageARN    string        `json:"stageArn"`
	ViewerCount int           `json:"viewerCount"`
	StageInfo   *stageSummary `json:"stageInfo"`
}

type stageStatsList struct {
	TotalStages int            `json:"totalStages"`
	Stages      []stageSummary `json:"stages"`
}

// publisherStats is GET /api/stats/publisher: the host's facts at the top
// level while one is live.
type publisherStats struct {
	IsPublisherLive bool `json:"isPublisherLive"`
	*livePublisher
}

// livePublisher is what both publisher routes tell of the host.
type livePublisher struct {
	ParticipantID           string `json:"participantId"`
	UserID                  string `json:"userId"`
	JoinedAt                string `json:"joinedAt"`
	ExpiresAt               string `json:"expiresAt"`
	Publishing              bool   `json:"publishing"`
	PublishingParticipantID string `json:"publishingParticipantId"`
}

func toLivePublisher(pub ivslive.Publisher) livePublisher {
	return livePublisher{
		ParticipantID: pub.ParticipantID, UserID: pub.UserID, JoinedAt: isoTime(pub.JoinedAt), ExpiresAt: isoTime(pub.ExpiresAt),
		Publishing: pub.Publishing, PublishingParticipantID: pub.Source(),
	}
}

// liveCounts are the totals GET /api/stats and the stats channel share.
type liveCounts struct {
	TotalViewers    int  `json:"totalViewers"`
	RealtimeViewers int  `json:"realtimeViewers"`
	PlaybackViewers int  `json:"playbackViewers"`
	ActiveStages    int  `json:"activeStages"`
	DrainingStages  int  `json:"drainingStages"`
	IsPublisherLive bool `json:"isPublisherLive"`
	CapacityLeft    int  `json:"capacityLeft"`
}

func toLiveCounts(st live.Stats) liveCounts {
	return liveCounts{
		TotalViewers: st.TotalViewers + st.PlaybackViewers, RealtimeViewers: st.TotalViewers,
		PlaybackViewers: st.PlaybackViewers, ActiveStages: len(st.Stages) - st.DrainingStages,
		DrainingStages: st.DrainingStages, IsPublisherLive: st.PublisherLive, CapacityLeft: st.CapacityLeft,
	}
}
