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
	// sourceGoneAt is when the source stopped publishing; the replication
	// ends ReconnectWindowSeconds later unless it publishes again.
	sourceGoneAt time.Time
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
	defer e.unlockClosing()
	srcStage, err := e.findStageLocked(src)
	if err != nil {
		return nil, err
	}
	if _, err := e.findStageLocked(dst); err != nil {
		return nil, err
	}
	var source *participant
	if l := e.live[src]; l != nil && l.active != nil {
		source = l.active.participants[pid]
	}
	if source == nil || !source.publishing {
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
	// The replica publishes in the destination, so it needs a seat there.
	if l := e.live[dst]; l != nil && l.active != nil && publishersLocked(l.active, pid) >= e.opts.Quotas.PublishersPerStage {
		return nil, quotaErr("stage %s already has %d publishers (quota %d)", dst, e.opts.Quotas.PublishersPerStage, e.opts.Quotas.PublishersPerStage)
	}
	rep := &replication{
		SourceStageArn:         src,
		DestinationStageArn:    dst,
		ParticipantID:          pid,
		SourceSessionID:        srcStage.ActiveSessionID,
		ReconnectWindowSeconds: deref(in.ReconnectWindowSeconds),
		Attributes:             maps.Clone(in.Attributes),
		StartedAt:              e.now().UTC(),
		Seq:                    e.state.nextSeq(),
	}
	e.state.Replications[key] = rep
	e.attachReplicaLocked(rep, source)
	source.ReplicationType, source.ReplicationState = replicationSrc, replActive
	e.recordLocked(srcStage, e.live[src].active, source, participantEvent{Name: "REPLICATION_STARTED",
		DestinationStageArn: dst, DestinationSessionID: rep.DestinationSessionID})
	if err := e.commitLocked(); err != nil {
		return nil, err
	}
	e.log.Info("ivs emulator: replication started", "participant", pid, "source", src, "destination", dst)
	return struct{}{}, nil
}

// attachReplicaLocked puts the replica of rep's participant into the
// destination stage: a participant of type REPLICA that joins and publishes
// the source's relay tracks. source is the source participant, or nil when
// it is not known (replications loaded from the state file).
func (e *Emulator) attachReplicaLocked(rep *replication, source *participant) {
	dst := e.state.Stages[rep.DestinationStageArn]
	s := e.activeSessionLocked(dst)
	id := identity{ID: rep.ParticipantID, Protocol: protocolUnknown}
	if source != nil {
		id.UserID, id.Protocol = source.UserID, source.Protocol
		id.Attributes = maps.Clone(source.Attributes)
	}
	// The replication's attributes are merged over the token's.
	if id.Attributes == nil && len(rep.Attributes) > 0 {
		id.Attributes = map[string]string{}
	}
	maps.Copy(id.Attributes, rep.Attributes)
	p := e.participantLocked(s, id)
	p.Attributes = id.Attributes
	p.replicaOf = rep
	p.ReplicationType, p.ReplicationState = replicationDst, replActive
	p.SourceStageArn, p.SourceSessionID = rep.SourceStageArn, rep.SourceSessionID
	e.joinLocked(dst, s, p)
	e.startPublishingLocked(dst, s, p)
	e.sources[sourceKey(dst.Arn, p.ID)] = e.sourceLocked(rep.SourceStageArn, p.ID)
	rep.DestinationSessionID = s.ID
}

// stopReplicationLocked ends a replication: the replica stops publishing and
// leaves the destination, and the source records REPLICATION_STOPPED.
func (e *Emulator) stopReplicationLocked(rep *replication) {
	key := replicationKey(rep.SourceStageArn, rep.DestinationStageArn, rep.ParticipantID)
	if e.state.Replications[key] != rep {
		return
	}
	delete(e.state.Replications, key)
	pid := rep.ParticipantID
	if dst, l := e.state.Stages[rep.DestinationStageArn], e.live[rep.DestinationStageArn]; dst != nil && l != nil && l.active != nil {
		if p := l.active.participants[pid]; p != nil && p.replicaOf == rep {
			p.replicaOf = nil
			p.ReplicationState = replStopped
			e.stopPublishingLocked(dst, l.active, p)
			e.leaveIfIdleLocked(dst, l.active, p)
		}
	}
	delete(e.sources, sourceKey(rep.DestinationStageArn, pid))
	if l := e.live[rep.SourceStageArn]; l == nil || l.active == nil || l.active.participants[pid] == nil {
		if !e.replicatedLocked(rep.SourceStageArn, pid) {
			delete(e.sources, sourceKey(rep.SourceStageArn, pid))
		}
	}
	// The event belongs to the source participant in the session the
	// replication started from; if that is gone, only EventBridge hears.
	ev := participantEvent{Name: "REPLICATION_STOPPED", DestinationStageArn: rep.DestinationStageArn, DestinationSessionID: rep.DestinationSessionID}
	st := e.state.Stages[rep.SourceStageArn]
	s := e.findSessionLocked(rep.SourceStageArn, rep.SourceSessionID)
	switch {
	case st != nil && s != nil && s.participants[pid] != nil:
		p := s.participants[pid]
		e.recordLocked(st, s, p, ev)
		if !e.replicatedLocked(rep.SourceStageArn, pid) {
			p.ReplicationState = replStopped
		}
	default:
		now := e.now().UTC()
		e.emitLocked(rep.SourceStageArn, StageUpdate{SessionID: rep.SourceSessionID, EventName: eventBridgeName(ev.Name),
			ParticipantID: pid, EventTime: eventTime(now), DestinationStageArn: ev.DestinationStageArn,
			DestinationSessionID: ev.DestinationSessionID}, now)
	}
	e.log.Info("ivs emulator: replication stopped", "participant", pid, "source", rep.SourceStageArn, "destination", rep.DestinationStageArn)
	// A failed write is logged; the replication is gone from memory either
	// way, as it is from IVS.
	_ = e.commitLocked()
}

// replicatedLocked says whether a participant of a stage is the source of
// an active replication.
func (e *Emulator) replicatedLocked(stageArn, participantID string) bool {
	for _, rep := range e.state.Replications {
		if rep.SourceStageArn == stageArn && rep.ParticipantID == participantID {
			return true
		}
	}
	return false
}

func (e *Emulator) stopParticipantReplication(r *http.Request) (any, error) {
	in, err := e.decodeReplication(r)
	if err != nil {
		return nil, err
	}
	src, dst, pid := *in.SourceStageArn, *in.DestinationStageArn, *in.ParticipantID
	e.mu.Lock()
	defer e.unlockClosing()
	rep, ok := e.state.Replications[replicationKey(src, dst, pid)]
	if !ok {
		return nil, notFoundErr("no active replication of participant %s from %s to %s", pid, src, dst)
	}
	e.stopReplicationLocked(rep)
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
