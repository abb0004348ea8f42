package emulator

import (
	"maps"
	"net/http"
	"time"
)

// Values of the model's ParticipantProtocol, ReplicationType and
// ReplicationState.
const (
	protocolWHIP    = "WHIP"
	protocolUnknown = "UNKNOWN"
	replicationNone = "NONE"
	replicationSrc  = "SOURCE"
	replicationDst  = "REPLICA"
	replActive      = "ACTIVE"
	replStopped     = "STOPPED"
)

// participant is one participant of one stage session: a participant id
// (the token's jti) that joined, or tried to.
type participant struct {
	ID         string
	UserID     string
	Attributes map[string]string
	Protocol   string
	Seq        int64
	// Connected is the model's state: CONNECTED while a connection, a
	// virtual publisher or an active replica holds the participant.
	Connected bool
	FirstJoin time.Time // zero until the first join
	// Published says whether it ever published in the session; publishing
	// whether it does now.
	Published  bool
	publishing bool
	// virtual is set by SetPublishing: publishing with no media.
	virtual bool
	// replicaOf is the active replication this participant is the replica
	// of (in the destination stage), if any.
	replicaOf *replication

	ReplicationType  string
	ReplicationState string
	SourceStageArn   string
	SourceSessionID  string

	conns  map[string]*conn
	events []participantEvent
}

// participantOutput is the model's Participant.
type participantOutput struct {
	participantSummary
	Attributes            map[string]string `json:"attributes"`
	Protocol              string            `json:"protocol"`
	RecordingS3BucketName string            `json:"recordingS3BucketName"`
	RecordingS3Prefix     string            `json:"recordingS3Prefix"`
}

// participantSummary is the model's ParticipantSummary.
type participantSummary struct {
	ParticipantID    string `json:"participantId"`
	UserID           string `json:"userId,omitempty"`
	State            string `json:"state"`
	FirstJoinTime    string `json:"firstJoinTime,omitempty"`
	Published        bool   `json:"published"`
	RecordingState   string `json:"recordingState"`
	ReplicationType  string `json:"replicationType"`
	ReplicationState string `json:"replicationState,omitempty"`
	SourceStageArn   string `json:"sourceStageArn,omitempty"`
	SourceSessionID  string `json:"sourceSessionId,omitempty"`
}

func (p *participant) state() string {
	if p.Connected {
		return "CONNECTED"
	}
	return "DISCONNECTED"
}

func (p *participant) summary() participantSummary {
	s := participantSummary{
		ParticipantID: p.ID, UserID: p.UserID, State: p.state(), Published: p.Published,
		// Recording is not modelled: no participant is ever recorded.
		RecordingState:  "DISABLED",
		ReplicationType: p.ReplicationType, ReplicationState: p.ReplicationState,
		SourceStageArn: p.SourceStageArn, SourceSessionID: p.SourceSessionID,
	}
	if !p.FirstJoin.IsZero() {
		s.FirstJoinTime = timestamp(p.FirstJoin)
	}
	return s
}

func (p *participant) output() participantOutput {
	attrs := maps.Clone(p.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	return participantOutput{participantSummary: p.summary(), Attributes: attrs, Protocol: p.Protocol}
}

// identity is who a participant is, from its token or its replication.
type identity struct {
	ID         string
	UserID     string
	Attributes map[string]string
	Protocol   string
}

// participantLocked returns the session's record of a participant,
// creating a DISCONNECTED one (a participant that has not joined yet).
func (e *Emulator) participantLocked(s *stageSession, id identity) *participant {
	p := s.participants[id.ID]
	if p == nil {
		p = &participant{ID: id.ID, UserID: id.UserID, Attributes: maps.Clone(id.Attributes), Protocol: id.Protocol,
			Seq: e.nextSeqLocked(), ReplicationType: replicationNone, conns: make(map[string]*conn)}
		s.participants[id.ID] = p
	}
	return p
}

// joinLocked connects a participant: JOINED, and the session stays open.
func (e *Emulator) joinLocked(st *stage, s *stageSession, p *participant) {
	if p.Connected {
		return
	}
	p.Connected = true
	if p.FirstJoin.IsZero() {
		p.FirstJoin = e.now().UTC()
	}
	e.recordLocked(st, s, p, participantEvent{Name: "JOINED", Replica: p.replicaOf != nil})
	s.emptySince = time.Time{}
}

// leaveIfIdleLocked disconnects a participant nothing holds any more: LEFT,
// and the session's end delay starts if it was the last one.
func (e *Emulator) leaveIfIdleLocked(st *stage, s *stageSession, p *participant) {
	if !p.Connected || len(p.conns) > 0 || p.virtual || p.replicaOf != nil {
		return
	}
	p.Connected = false
	e.recordLocked(st, s, p, participantEvent{Name: "LEFT", Replica: p.ReplicationType == replicationDst})
	e.settleSessionLocked(s)
}

// publishersLocked counts the participants publishing, or about to, in a
// session (replicas included), but not except.
func publishersLocked(s *stageSession, except string) int {
	n := 0
	for _, p := range s.participants {
		if p.ID == except {
			continue
		}
		if p.publishing || p.publishConn() != nil {
			n++
		}
	}
	return n
}

// subscribersLocked counts the participants with a subscription in a
// session, but not except.
func subscribersLocked(s *stageSession, except string) int {
	n := 0
	for _, p := range s.participants {
		if p.ID == except {
			continue
		}
		for _, c := range p.conns {
			if !c.publish {
				n++
				break
			}
		}
	}
	return n
}

// publishConn returns the participant's publishing connection, if any.
func (p *participant) publishConn() *conn {
	for _, c := range p.conns {
		if c.publish {
			return c
		}
	}
	return nil
}

// participantInput is GetParticipant's body.
type participantInput struct {
	sessionInput
	ParticipantID *string `json:"participantId"`
}

func (e *Emulator) getParticipant(r *http.Request) (any, error) {
	var in participantInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.session(e, in.sessionInput)
	v.requiredStr("participantId", in.ParticipantID, 0, 64, e.re.participantID)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.sessionOfLocked(in.sessionInput)
	if err != nil {
		return nil, err
	}
	p := s.participants[*in.ParticipantID]
	if p == nil {
		return nil, notFoundErr("Participant not found: %s", *in.ParticipantID)
	}
	return map[string]any{"participant": p.output()}, nil
}

func (e *Emulator) listParticipants(r *http.Request) (any, error) {
	var in struct {
		sessionInput
		FilterByUserID         *string `json:"filterByUserId"`
		FilterByPublished      *bool   `json:"filterByPublished"`
		FilterByState          *string `json:"filterByState"`
		FilterByRecordingState *string `json:"filterByRecordingState"`
		MaxResults             *int    `json:"maxResults"`
		NextToken              *string `json:"nextToken"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.session(e, in.sessionInput)
	v.str("filterByUserId", in.FilterByUserID, 0, 128, nil)
	if in.FilterByState != nil {
		v.enum("filterByState", []string{*in.FilterByState}, "CONNECTED", "DISCONNECTED")
	}
	if in.FilterByRecordingState != nil {
		v.enum("filterByRecordingState", []string{*in.FilterByRecordingState}, "STARTING", "ACTIVE", "STOPPING", "STOPPED", "FAILED")
	}
	v.page(e, in.MaxResults, 100, in.NextToken)
	if err := v.err(); err != nil {
		return nil, err
	}
	// filterByPublished defaults to false, and the SDK only sends it when
	// true, so false counts as no filter.
	filters := 0
	for _, set := range []bool{in.FilterByUserID != nil, in.FilterByPublished != nil && *in.FilterByPublished,
		in.FilterByState != nil, in.FilterByRecordingState != nil} {
		if set {
			filters++
		}
	}
	if filters > 1 {
		return nil, validationErr("Only one of filterByUserId, filterByPublished, filterByState, or filterByRecordingState can be provided per request")
	}
	keep := func(p *participant) bool {
		switch {
		case in.FilterByUserID != nil:
			return p.UserID == *in.FilterByUserID
		case in.FilterByPublished != nil && *in.FilterByPublished:
			return p.Published
		case in.FilterByState != nil:
			return p.state() == *in.FilterByState
		case in.FilterByRecordingState != nil:
			return false // nobody is recorded
		}
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// The model lists no ResourceNotFoundException: an unknown stage or
	// session has no participants.
	matching := map[string]*participant{}
	if s := e.findSessionLocked(*in.StageArn, *in.SessionID); s != nil {
		for id, p := range s.participants {
			if keep(p) {
				matching[id] = p
			}
		}
	}
	seqOf := func(p *participant) int64 { return p.Seq }
	page, next, err := paginate("participants", sortedBySeq(matching, seqOf), seqOf, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Participants []participantSummary `json:"participants"`
		NextToken    string               `json:"nextToken,omitempty"`
	}{Participants: make([]participantSummary, 0, len(page)), NextToken: next}
	for _, p := range page {
		out.Participants = append(out.Participants, p.summary())
	}
	return out, nil
}
