package emulator

import (
	"maps"
	"net/http"
	"time"
)

// replication is a stored ACTIVE participant replication. Stopped ones are
// deleted, so every stored replication is ACTIVE.
type replication struct {
	SourceStageArn         string            `json:"sourceStageArn"`
	DestinationStageArn    string            `json:"destinationStageArn"`
	ParticipantID          string            `json:"participantId"`
	SourceSessionID        string            `json:"sourceSessionId"`
	DestinationSessionID   string            `json:"destinationSessionId"`
	ReconnectWindowSeconds int               `json:"reconnectWindowSeconds"`
	Attributes             map[string]string `json:"attributes,omitempty"`
	StartedAt              time.Time         `json:"startedAt"`
	Seq                    int64             `json:"seq"`
}

// participantReplica is the model's ParticipantReplica.
type participantReplica struct {
	SourceStageArn       string `json:"sourceStageArn"`
	ParticipantID        string `json:"participantId"`
	SourceSessionID      string `json:"sourceSessionId"`
	DestinationStageArn  string `json:"destinationStageArn"`
	DestinationSessionID string `json:"destinationSessionId"`
	ReplicationState     string `json:"replicationState"`
}

func replicationKey(source, destination, participantID string) string {
	return source + "|" + destination + "|" + participantID
}

// newSessionID returns a stage session id: "st-" and 13 alphanumerics, the
// 16 characters the model requires.
func newSessionID() string {
	return "st-" + randomAlnum(13)
}

// refreshSessionLocked gives a stage an activeSessionId while someone is
// publishing in it or a replication uses it, and clears it otherwise. Real
// sessions end minutes later; that delay is not modeled.
func (e *Emulator) refreshSessionLocked(arn string) {
	st, ok := e.state.Stages[arn]
	if !ok {
		return
	}
	active := len(e.publishing[arn]) > 0
	for _, rep := range e.state.Replications {
		if active {
			break
		}
		active = rep.SourceStageArn == arn || rep.DestinationStageArn == arn
	}
	switch {
	case active && st.ActiveSessionID == "":
		st.ActiveSessionID = newSessionID()
	case !active:
		st.ActiveSessionID = ""
	}
}

// replicationInput is the body of Start/StopParticipantReplication.
type replicationInput struct {
	SourceStageArn         *string           `json:"sourceStageArn"`
	DestinationStageArn    *string           `json:"destinationStageArn"`
	ParticipantID          *string           `json:"participantId"`
	ReconnectWindowSeconds *int              `json:"reconnectWindowSeconds"`
	Attributes             map[string]string `json:"attributes"`
}

func (e *Emulator) decodeReplication(r *http.Request) (replicationInput, error) {
	var in replicationInput
	if err := decode(r, &in); err != nil {
		return in, err
	}
	var v validator
	v.requiredStr("sourceStageArn", in.SourceStageArn, 1, 128, e.re.stageArn)
	v.requiredStr("destinationStageArn", in.DestinationStageArn, 1, 128, e.re.stageArn)
	v.requiredStr("participantId", in.ParticipantID, 0, 64, e.re.participantID)
	v.intRange("reconnectWindowSeconds", in.ReconnectWindowSeconds, 0, 300)
	v.attributes("attributes", in.Attributes)
	if err := v.err(); err != nil {
		return in, err
	}
	if *in.SourceStageArn == *in.DestinationStageArn {
		return in, validationErr("destinationStageArn must be different from sourceStageArn")
	}
	return in, nil
}

func (e *Emulator) startParticipantReplication(r *http.Request) (any, error) {
	in, err := e.decodeReplication(r)
	if err != nil {
		return nil, err
	}
	src, dst, pid := *in.SourceStageArn, *in.DestinationStageArn, *in.ParticipantID
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.findStageLocked(src); err != nil {
		return nil, err
	}
	if _, err := e.findStageLocked(dst); err != nil {
		return nil, err
	}
	if e.opts.RequirePublishing && !e.publishing[src][pid] {
		return nil, notFoundErr("participant %s is not publishing in the source stage %s", pid, src)
	}
	key := replicationKey(src, dst, pid)
	if _, ok := e.state.Replications[key]; ok {
		return nil, conflictErr("participant %s is already replicated from %s to %s", pid, src, dst)
	}
	// The quota is per participant across all stages in the Region.
	active := 0
	for _, rep := range e.state.Replications {
		if rep.ParticipantID == pid {
			active++
		}
	}
	if active >= e.opts.Quotas.ReplicationsPerParticipant {
		return nil, quotaErr("participant %s already has %d concurrent replications (quota %d)", pid, active, e.opts.Quotas.ReplicationsPerParticipant)
	}
	rep := &replication{
		SourceStageArn:         src,
		DestinationStageArn:    dst,
		ParticipantID:          pid,
		ReconnectWindowSeconds: deref(in.ReconnectWindowSeconds),
		Attributes:             maps.Clone(in.Attributes),
		StartedAt:              e.now().UTC(),
		Seq:                    e.state.nextSeq(),
	}
	e.state.Replications[key] = rep
	e.refreshSessionLocked(src)
	e.refreshSessionLocked(dst)
	rep.SourceSessionID = e.state.Stages[src].ActiveSessionID
	rep.DestinationSessionID = e.state.Stages[dst].ActiveSessionID
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	e.log.Info("ivs emulator: replication started", "participant", pid, "source", src, "destination", dst)
	return struct{}{}, nil
}

func (e *Emulator) stopParticipantReplication(r *http.Request) (any, error) {
	in, err := e.decodeReplication(r)
	if err != nil {
		return nil, err
	}
	src, dst, pid := *in.SourceStageArn, *in.DestinationStageArn, *in.ParticipantID
	e.mu.Lock()
	defer e.mu.Unlock()
	key := replicationKey(src, dst, pid)
	if _, ok := e.state.Replications[key]; !ok {
		return nil, notFoundErr("no active replication of participant %s from %s to %s", pid, src, dst)
	}
	delete(e.state.Replications, key)
	e.refreshSessionLocked(src)
	e.refreshSessionLocked(dst)
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	e.log.Info("ivs emulator: replication stopped", "participant", pid, "source", src, "destination", dst)
	return struct{}{}, nil
}

func (e *Emulator) listParticipantReplicas(r *http.Request) (any, error) {
	var in struct {
		SourceStageArn *string `json:"sourceStageArn"`
		ParticipantID  *string `json:"participantId"`
		MaxResults     *int    `json:"maxResults"`
		NextToken      *string `json:"nextToken"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.requiredStr("sourceStageArn", in.SourceStageArn, 1, 128, e.re.stageArn)
	v.requiredStr("participantId", in.ParticipantID, 0, 64, e.re.participantID)
	v.page(e, in.MaxResults, 50, in.NextToken)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// The model lists no ResourceNotFoundException here: an unknown stage or
	// participant simply has no replicas.
	matching := make(map[string]*replication)
	for key, rep := range e.state.Replications {
		if rep.SourceStageArn == *in.SourceStageArn && rep.ParticipantID == *in.ParticipantID {
			matching[key] = rep
		}
	}
	seqOf := func(rep *replication) int64 { return rep.Seq }
	page, next, err := paginate("replicas", sortedBySeq(matching, seqOf), seqOf, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Replicas  []participantReplica `json:"replicas"`
		NextToken string               `json:"nextToken,omitempty"`
	}{Replicas: make([]participantReplica, 0, len(page)), NextToken: next}
	for _, rep := range page {
		out.Replicas = append(out.Replicas, participantReplica{
			SourceStageArn:       rep.SourceStageArn,
			ParticipantID:        rep.ParticipantID,
			SourceSessionID:      rep.SourceSessionID,
			DestinationStageArn:  rep.DestinationStageArn,
			DestinationSessionID: rep.DestinationSessionID,
			ReplicationState:     "ACTIVE",
		})
	}
	return out, nil
}
