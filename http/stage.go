package http

import (
	"net/http"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/live"
)

// stageJSON is an IVS stage with the SDK's camelCase names, as the Node
// server sent it.
type stageJSON struct {
	ARN             string                   `json:"arn"`
	Name            string                   `json:"name"`
	ActiveSessionID string                   `json:"activeSessionId,omitempty"`
	Tags            map[string]string        `json:"tags"`
	Recording       *ivslive.RecordingConfig `json:"autoParticipantRecordingConfiguration,omitempty"`
	Endpoints       *ivslive.StageEndpoints  `json:"endpoints,omitempty"`
}

func toStageJSON(st ivslive.Stage) stageJSON {
	j := stageJSON{ARN: st.ARN, Name: st.Name, ActiveSessionID: st.ActiveSessionID, Tags: st.Tags, Recording: st.Recording}
	if j.Tags == nil {
		j.Tags = map[string]string{}
	}
	if st.Endpoints != (ivslive.StageEndpoints{}) {
		e := st.Endpoints
		j.Endpoints = &e
	}
	return j
}

// stageSummary is a managed stage in lists, with ivslive's own facts.
type stageSummary struct {
	StageARN    string            `json:"stageArn"`
	Name        string            `json:"name"`
	StageName   string            `json:"stageName"`
	ViewerCount int               `json:"viewerCount"`
	AutoScaled  bool              `json:"autoScaled"`
	IsMaster    bool              `json:"isMaster"`
	State       string            `json:"state"`
	CreatedAt   any               `json:"createdAt,omitempty"`
	Tags        map[string]string `json:"tags"`
	Replicating bool              `json:"replicating"`
	// IVS's view, where known (see live.StageView).
	IVSConnected *int `json:"ivsConnected,omitempty"`
	Drift        *int `json:"drift,omitempty"`
	WithoutHost  *int `json:"withoutHost,omitempty"`
	// HostMedia: the host's media reaches the stage (the master while the
	// host publishes, a replica stage while IVS reports its replication
	// ACTIVE); only such stages are seated without being named.
	HostMedia bool `json:"hostMedia"`
}

func toSummary(v live.StageView) stageSummary {
	name := v.Name
	if name == "" {
		name = "unnamed"
	}
	tags := v.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return stageSummary{
		StageARN: v.ARN, Name: v.Name, StageName: name, ViewerCount: v.Viewers, AutoScaled: v.AutoScaled,
		IsMaster: v.Master, State: string(v.State), CreatedAt: optionalTime(v.CreatedAt), Tags: tags,
		Replicating: v.Replication != nil, IVSConnected: v.IVSConnected, Drift: v.Drift(), WithoutHost: v.WithoutHost, HostMedia: v.HostMedia,
	}
}

// stageList is the answer of GET /api/stage: a page of managed stages.
type stageList struct {
	Stages      []stageSummary `json:"stages"`
	TotalStages int            `json:"totalStages"`
	NextToken   string         `json:"nextToken,omitempty"`
}

// stageAnswer is one stage as IVS has it; the viewer count where the route
// gives one (get, master), and isMasterStage on the master's route only.
type stageAnswer struct {
	Stage         stageJSON `json:"stage"`
	ViewerCount   *int      `json:"viewerCount,omitempty"`
	IsMasterStage bool      `json:"isMasterStage,omitempty"`
}

type stageDeleted struct {
	StageARN string `json:"stageArn"`
	Deleted  bool   `json:"deleted"`
}

func (s *Server) handleStageList(w http.ResponseWriter, r *http.Request) {
	after, limit, err := page(r, 50)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	views, next, total, err := s.Live.ListStages(r.Context(), after, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	stages := make([]stageSummary, len(views))
	for i, v := range views {
		stages[i] = toSummary(v)
	}
	s.respond(w, http.StatusOK, stageList{Stages: stages, TotalStages: total, NextToken: next}, "")
}

func (s *Server) handleStageMaster(w http.ResponseWriter, r *http.Request) {
	st, n, err := s.Live.MasterStage(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, stageAnswer{Stage: toStageJSON(st), ViewerCount: &n, IsMasterStage: true}, "")
}

type createStageRequest struct {
	Name string            `json:"name"`
	Tags map[string]string `json:"tags"`
}

func (s *Server) handleStageCreate(w http.ResponseWriter, r *http.Request) {
	var req createStageRequest
	if !s.bind(w, r, &req) {
		return
	}
	st, err := s.Live.CreateStage(r.Context(), req.Name, req.Tags, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusCreated, stageAnswer{Stage: toStageJSON(st)}, "")
}

// stageARN reads and checks the {stageArn} path parameter.
func stageARN(r *http.Request) (string, error) {
	arn := r.PathValue("stageArn")
	if !ivslive.ValidStageARN(arn) {
		return "", ivslive.Errorf(ivslive.EVALIDATION, "stageArn is not a valid IVS stage ARN (percent-encode it in the path)")
	}
	return arn, nil
}

func (s *Server) handleStageGet(w http.ResponseWriter, r *http.Request) {
	arn, err := stageARN(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	st, n, err := s.Live.GetStage(r.Context(), arn)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, stageAnswer{Stage: toStageJSON(st), ViewerCount: &n}, "")
}

type updateStageRequest struct {
	Name string `json:"name"`
}

func (s *Server) handleStageUpdate(w http.ResponseWriter, r *http.Request) {
	arn, err := stageARN(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var req updateStageRequest
	if !s.bind(w, r, &req) {
		return
	}
	st, err := s.Live.UpdateStage(r.Context(), arn, req.Name)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, stageAnswer{Stage: toStageJSON(st)}, "")
}

func (s *Server) handleStageDelete(w http.ResponseWriter, r *http.Request) {
	arn, err := stageARN(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	force, err := query(r, "force")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if force != "" && force != "true" && force != "false" {
		s.Error(w, r, ivslive.Errorf(ivslive.EVALIDATION, "force must be true or false"))
		return
	}
	if err := s.Live.DeleteStage(r.Context(), arn, force == "true"); err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, stageDeleted{StageARN: arn, Deleted: true}, "Stage 已刪除")
}
