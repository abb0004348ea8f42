package emulator

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// stage is a stored stage. Endpoints are fixed at creation, as AWS documents
// that clients may cache them.
type stage struct {
	Arn       string            `json:"arn"`
	ID        string            `json:"id"`
	Name      string            `json:"name,omitempty"`
	Tags      map[string]string `json:"tags"`
	Recording *recordingConfig  `json:"autoParticipantRecordingConfiguration"`
	Endpoints stageEndpoints    `json:"endpoints"`
	// ActiveSessionID mirrors the active session; sessions are runtime
	// state, so it is not persisted.
	ActiveSessionID string    `json:"-"`
	CreatedAt       time.Time `json:"createdAt"`
	Seq             int64     `json:"seq"`
}

// stageEndpoints is the model's StageEndpoints.
type stageEndpoints struct {
	Events string `json:"events"`
	Whip   string `json:"whip"`
	Rtmp   string `json:"rtmp"`
	Rtmps  string `json:"rtmps"`
}

// stageOutput is the model's Stage.
type stageOutput struct {
	Arn                                   string            `json:"arn"`
	Name                                  string            `json:"name,omitempty"`
	ActiveSessionID                       string            `json:"activeSessionId,omitempty"`
	Tags                                  map[string]string `json:"tags"`
	AutoParticipantRecordingConfiguration *recordingConfig  `json:"autoParticipantRecordingConfiguration,omitempty"`
	Endpoints                             *stageEndpoints   `json:"endpoints,omitempty"`
}

// stageSummary is the model's StageSummary; it has no endpoints.
type stageSummary struct {
	Arn             string            `json:"arn"`
	Name            string            `json:"name,omitempty"`
	ActiveSessionID string            `json:"activeSessionId,omitempty"`
	Tags            map[string]string `json:"tags"`
}

func (s *stage) output() *stageOutput {
	endpoints := s.Endpoints
	return &stageOutput{
		Arn:                                   s.Arn,
		Name:                                  s.Name,
		ActiveSessionID:                       s.ActiveSessionID,
		Tags:                                  cloneTags(s.Tags),
		AutoParticipantRecordingConfiguration: s.Recording.clone(),
		Endpoints:                             &endpoints,
	}
}

// cloneTags copies tags so responses never share maps with the state, and
// never encode as null: AWS always sends "tags":{}.
func cloneTags(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	maps.Copy(out, tags)
	return out
}

// endpointsFor derives a stage's endpoints from BaseURL, so clients that
// follow them reach the emulator rather than AWS.
func (e *Emulator) endpointsFor(id string) stageEndpoints {
	ws := "ws"
	if e.base.Scheme == "https" {
		ws = "wss"
	}
	host := e.base.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	root := e.base.Host + e.base.EscapedPath()
	return stageEndpoints{
		Events: ws + "://" + root + "/events/" + id,
		Whip:   e.base.Scheme + "://" + root + "/whip/" + id,
		Rtmp:   "rtmp://" + host + "/app/",
		Rtmps:  "rtmps://" + host + ":443/app/",
	}
}

// findStageLocked returns the stage or ResourceNotFoundException.
func (e *Emulator) findStageLocked(arn string) (*stage, error) {
	st, ok := e.state.Stages[arn]
	if !ok {
		return nil, notFoundErr("Stage not found: %s", arn)
	}
	return st, nil
}

func (e *Emulator) createStage(r *http.Request) (any, error) {
	var in struct {
		Name                                  *string           `json:"name"`
		ParticipantTokenConfigurations        []tokenConfig     `json:"participantTokenConfigurations"`
		Tags                                  map[string]string `json:"tags"`
		AutoParticipantRecordingConfiguration *recordingConfig  `json:"autoParticipantRecordingConfiguration"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.str("name", in.Name, 0, 128, e.re.name)
	v.count("participantTokenConfigurations", len(in.ParticipantTokenConfigurations), 12)
	for i := range in.ParticipantTokenConfigurations {
		v.tokenConfig(memberIndex("participantTokenConfigurations", i), &in.ParticipantTokenConfigurations[i])
	}
	v.tags("tags", in.Tags)
	v.recording(e, "autoParticipantRecordingConfiguration", in.AutoParticipantRecordingConfiguration)
	if err := v.err(); err != nil {
		return nil, err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.state.Stages) >= e.opts.Quotas.Stages {
		return nil, quotaErr("stage quota of %d per Region reached", e.opts.Quotas.Stages)
	}
	id, arn := e.newArnLocked("stage", func(arn string) bool { return e.state.Stages[arn] != nil })
	st := &stage{
		Arn:       arn,
		ID:        id,
		Name:      deref(in.Name),
		Tags:      cloneTags(in.Tags),
		Recording: normalizeRecording(in.AutoParticipantRecordingConfiguration),
		Endpoints: e.endpointsFor(id),
		CreatedAt: e.now().UTC(),
		Seq:       e.state.nextSeq(),
	}
	tokens := make([]participantToken, 0, len(in.ParticipantTokenConfigurations))
	for _, cfg := range in.ParticipantTokenConfigurations {
		tok, err := e.mint(st, cfg)
		if err != nil {
			return nil, internalErr(err)
		}
		tokens = append(tokens, tok)
	}
	e.state.Stages[arn] = st
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	e.log.Info("ivs emulator: stage created", "arn", arn, "name", st.Name)
	out := struct {
		Stage             *stageOutput       `json:"stage"`
		ParticipantTokens []participantToken `json:"participantTokens,omitempty"`
	}{st.output(), tokens}
	return out, nil
}

func (e *Emulator) getStage(r *http.Request) (any, error) {
	arn, err := e.decodeArn(r, e.re.stageArn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st, err := e.findStageLocked(arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"stage": st.output()}, nil
}

func (e *Emulator) listStages(r *http.Request) (any, error) {
	return listRecords(e, r, "stages", func() map[string]*stage { return e.state.Stages }, func(s *stage) int64 { return s.Seq },
		func(st *stage) stageSummary {
			return stageSummary{Arn: st.Arn, Name: st.Name, ActiveSessionID: st.ActiveSessionID, Tags: cloneTags(st.Tags)}
		})
}

func (e *Emulator) updateStage(r *http.Request) (any, error) {
	var in struct {
		Arn                                   *string          `json:"arn"`
		Name                                  *string          `json:"name"`
		AutoParticipantRecordingConfiguration *recordingConfig `json:"autoParticipantRecordingConfiguration"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.requiredStr("arn", in.Arn, 1, 128, e.re.stageArn)
	v.str("name", in.Name, 0, 128, e.re.name)
	v.recording(e, "autoParticipantRecordingConfiguration", in.AutoParticipantRecordingConfiguration)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st, err := e.findStageLocked(*in.Arn)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		st.Name = *in.Name
	}
	if in.AutoParticipantRecordingConfiguration != nil {
		st.Recording = normalizeRecording(in.AutoParticipantRecordingConfiguration)
	}
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	return map[string]any{"stage": st.output()}, nil
}

func (e *Emulator) deleteStage(r *http.Request) (any, error) {
	arn, err := e.decodeArn(r, e.re.stageArn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.unlockClosing()
	st, err := e.findStageLocked(arn)
	if err != nil {
		return nil, err
	}
	// Deleting a stage disconnects everyone in it, which ends replications
	// out of it and into it.
	for _, rep := range e.state.Replications {
		if rep.SourceStageArn == arn || rep.DestinationStageArn == arn {
			e.stopReplicationLocked(rep)
		}
	}
	if l := e.live[arn]; l != nil && l.active != nil {
		for _, p := range l.active.participants {
			e.disconnectLocked(st, l.active, p)
		}
	}
	e.failStageCompositionsLocked(arn)
	e.endSessionLocked(arn)
	delete(e.live, arn)
	for key := range e.sources {
		if stage, _ := splitSourceKey(key); stage == arn {
			delete(e.sources, key)
		}
	}
	delete(e.state.Stages, arn)
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	e.log.Info("ivs emulator: stage deleted", "arn", arn)
	return struct{}{}, nil
}

// deref returns *p, or the zero value for a member that was not sent.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// memberIndex names a list item the way AWS validation messages do
// ("participantTokenConfigurations.1.member", 1-based).
func memberIndex(list string, i int) string {
	return list + "." + strconv.Itoa(i+1) + ".member"
}
