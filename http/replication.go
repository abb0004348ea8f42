package http

import (
	"net/http"

	"github.com/ivslive/ivslive"
)

type replicationRequest struct {
	SourceStageARN      string `json:"sourceStageArn"`
	DestinationStageARN string `json:"destinationStageArn"`
	ParticipantID       string `json:"participantId"`
}

func (q *replicationRequest) check() error {
	return missing("缺少必要參數", map[string]string{
		"sourceStageArn": q.SourceStageARN, "destinationStageArn": q.DestinationStageARN, "participantId": q.ParticipantID,
	}, "sourceStageArn", "destinationStageArn", "participantId")
}

func (s *Server) decodeReplication(w http.ResponseWriter, r *http.Request) (ivslive.Replication, error) {
	var req replicationRequest
	if err := s.decode(w, r, &req); err != nil {
		return ivslive.Replication{}, err
	}
	return ivslive.Replication{SourceStageARN: req.SourceStageARN, DestinationStageARN: req.DestinationStageARN, ParticipantID: req.ParticipantID}, nil
}

func (s *Server) handleReplicationStart(w http.ResponseWriter, r *http.Request) {
	rep, err := s.decodeReplication(w, r)
	if err == nil {
		rep, err = s.Live.StartReplication(r.Context(), rep)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, replicationChange{
		Message: "Participant Replication 已啟動", SourceStageARN: rep.SourceStageARN,
		DestinationStageARN: rep.DestinationStageARN, ParticipantID: rep.ParticipantID, StartedAt: isoTime(rep.StartedAt),
	}, "")
}

func (s *Server) handleReplicationStop(w http.ResponseWriter, r *http.Request) {
	rep, err := s.decodeReplication(w, r)
	if err == nil {
		rep, err = s.Live.StopReplication(r.Context(), rep)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, replicationChange{
		Message: "Participant Replication 已停止", SourceStageARN: rep.SourceStageARN,
		DestinationStageARN: rep.DestinationStageARN, ParticipantID: rep.ParticipantID, StoppedAt: isoTime(s.now()),
	}, "")
}

func (s *Server) handleReplicationStatus(w http.ResponseWriter, r *http.Request) {
	arn, err := stageARN(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	rep, err := s.Live.ReplicationStatus(r.Context(), arn)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if rep == nil {
		s.respond(w, http.StatusOK, replicationStatus{StageARN: arn, Message: "此 Stage 沒有啟動 Participant Replication"}, "")
		return
	}
	s.respond(w, http.StatusOK, replicationStatus{StageARN: arn, HasReplication: true, ReplicationInfo: &replicationInfo{
		SourceStageARN: rep.SourceStageARN, DestStageARN: rep.DestinationStageARN,
		ParticipantID: rep.ParticipantID, StartedAt: isoTime(rep.StartedAt),
	}}, "")
}

func (s *Server) handlePublisherInfo(w http.ResponseWriter, r *http.Request) {
	pub, err := s.Live.PublisherInfo(r.Context())
	switch ivslive.ErrorCode(err) {
	case "":
		s.respond(w, http.StatusOK, publisherInfoAnswer{HasPublisher: true, PublisherInfo: &publisherInfo{
			StageARN: pub.StageARN, livePublisher: toLivePublisher(pub),
		}}, "")
	case ivslive.ENOTFOUND:
		s.respond(w, http.StatusOK, publisherInfoAnswer{Message: "當前沒有主播在線"}, "")
	default:
		s.Error(w, r, err)
	}
}

// replicationChange answers replication start (startedAt) and stop
// (stoppedAt); the Node server put its message in the data too.
type replicationChange struct {
	Message             string `json:"message"`
	SourceStageARN      string `json:"sourceStageArn"`
	DestinationStageARN string `json:"destinationStageArn"`
	ParticipantID       string `json:"participantId"`
	StartedAt           string `json:"startedAt,omitempty"`
	StoppedAt           string `json:"stoppedAt,omitempty"`
}

type replicationStatus struct {
	StageARN        string           `json:"stageArn"`
	HasReplication  bool             `json:"hasReplication"`
	Message         string           `json:"message,omitempty"`
	ReplicationInfo *replicationInfo `json:"replicationInfo,omitempty"`
}

type replicationInfo struct {
	SourceStageARN string `json:"sourceStageArn"`
	DestStageARN   string `json:"destStageArn"`
	ParticipantID  string `json:"participantId"`
	StartedAt      string `json:"startedAt"`
}

type publisherInfoAnswer struct {
	HasPublisher  bool           `json:"hasPublisher"`
	Message       string         `json:"message,omitempty"`
	PublisherInfo *publisherInfo `json:"publisherInfo,omitempty"`
}

// publisherInfo is the live host and its stage.
type publisherInfo struct {
	StageARN string `json:"stageArn"`
	livePublisher
}
