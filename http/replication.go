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

func (s *Server) decodeReplication(w http.ResponseWriter, r *http.Request) (ivslive.Replication, error) {
	var req replicationRequest
	if err := s.decode(w, r, &req); err != nil {
		return ivslive.Replication{}, err
	}
	err := missing("缺少必要參數", map[string]string{
		"sourceStageArn": req.SourceStageARN, "destinationStageArn": req.DestinationStageARN, "participantId": req.ParticipantID,
	}, "sourceStageArn", "destinationStageArn", "participantId")
	return ivslive.Replication{SourceStageARN: req.SourceStageARN, DestinationStageARN: req.DestinationStageARN, ParticipantID: req.ParticipantID}, err
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
	s.respond(w, http.StatusOK, map[string]any{
		"message": "Participant Replication 已啟動", "sourceStageArn": rep.SourceStageARN,
		"destinationStageArn": rep.DestinationStageARN, "participantId": rep.ParticipantID, "startedAt": isoTime(rep.StartedAt),
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
	s.respond(w, http.StatusOK, map[string]any{
		"message": "Participant Replication 已停止", "sourceStageArn": rep.SourceStageARN,
		"destinationStageArn": rep.DestinationStageARN, "participantId": rep.ParticipantID, "stoppedAt": isoTime(s.now()),
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
		s.respond(w, http.StatusOK, map[string]any{"stageArn": arn, "hasReplication": false, "message": "此 Stage 沒有啟動 Participant Replication"}, "")
		return
	}
	s.respond(w, http.StatusOK, map[string]any{"stageArn": arn, "hasReplication": true, "replicationInfo": map[string]any{
		"sourceStageArn": rep.SourceStageARN, "destStageArn": rep.DestinationStageARN,
		"participantId": rep.ParticipantID, "startedAt": isoTime(rep.StartedAt),
	}}, "")
}

func (s *Server) handlePublisherInfo(w http.ResponseWriter, r *http.Request) {
	pub, err := s.Live.PublisherInfo(r.Context())
	switch ivslive.ErrorCode(err) {
	case "":
		s.respond(w, http.StatusOK, map[string]any{"hasPublisher": true, "publisherInfo": map[string]any{
			"participantId": pub.ParticipantID, "stageArn": pub.StageARN, "userId": pub.UserID,
			"joinedAt": isoTime(pub.JoinedAt), "expiresAt": isoTime(pub.ExpiresAt),
			"publishing": pub.Publishing, "publishingParticipantId": pub.Source(),
		}}, "")
	case ivslive.ENOTFOUND:
		s.respond(w, http.StatusOK, map[string]any{"hasPublisher": false, "message": "當前沒有主播在線"}, "")
	default:
		s.Error(w, r, err)
	}
}
