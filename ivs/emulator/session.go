package emulator

import (
	"net/http"
	"time"
)

// maxEndedSessions is how many ended sessions a stage keeps for
// ListStageSessions and the participant APIs; older ones are forgotten.
const maxEndedSessions = 100

// stageLive is the runtime of one stage: its sessions, oldest first, with
// the active one (if any) last. None of it is persisted: a restart
// disconnects everyone, as a restart of IVS's media servers would.
type stageLive struct {
	sessions []*stageSession
	active   *stageSession
}

// stageSession is one stage session and its participants.
type stageSession struct {
	ID    string
	Start time.Time
	End   time.Time // zero while active
	Seq   int64
	// emptySince is when the session last had no connected participant; it
	// ends SessionEndDelay later. Zero while someone is connected.
	emptySince   time.Time
	participants map[string]*participant
}

// stageSessionOutput is the model's StageSession (and StageSessionSummary).
type stageSessionOutput struct {
	SessionID string `json:"sessionId"`
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime,omitempty"`
}

func (s *stageSession) output() stageSessionOutput {
	out := stageSessionOutput{SessionID: s.ID, StartTime: timestamp(s.Start)}
	if !s.End.IsZero() {
		out.EndTime = timestamp(s.End)
	}
	return out
}

// nextSeqLocked numbers runtime records in creation order.
func (e *Emulator) nextSeqLocked() int64 {
	e.seq++
	return e.seq
}

// activeSessionLocked returns the stage's active session, starting one (the
// first join of a session starts it) when there is none.
func (e *Emulator) activeSessionLocked(st *stage) *stageSession {
	l := e.live[st.Arn]
	if l == nil {
		l = &stageLive{}
		e.live[st.Arn] = l
	}
	if l.active != nil {
		return l.active
	}
	now := e.now().UTC()
	s := &stageSession{ID: newSessionID(), Start: now, Seq: e.nextSeqLocked(), emptySince: now,
		participants: make(map[string]*participant)}
	l.active = s
	l.sessions = append(l.sessions, s)
	if n := len(l.sessions) - maxEndedSessions - 1; n > 0 {
		l.sessions = append(l.sessions[:0:0], l.sessions[n:]...)
	}
	st.ActiveSessionID = s.ID
	e.log.Info("ivs emulator: stage session started", "stage", st.Arn, "session", s.ID)
	return s
}

// findSessionLocked returns a session of a stage, or nil.
func (e *Emulator) findSessionLocked(arn, id string) *stageSession {
	l := e.live[arn]
	if l == nil {
		return nil
	}
	for _, s := range l.sessions {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// settleSessionLocked starts the session's end delay when nobody is left in
// it, and cancels it when someone is.
func (e *Emulator) settleSessionLocked(s *stageSession) {
	for _, p := range s.participants {
		if p.Connected || len(p.conns) > 0 {
			s.emptySince = time.Time{}
			return
		}
	}
	if s.emptySince.IsZero() {
		s.emptySince = e.now().UTC()
	}
}

// endSessionLocked ends the stage's active session now.
func (e *Emulator) endSessionLocked(arn string) {
	l := e.live[arn]
	if l == nil || l.active == nil {
		return
	}
	l.active.End = e.now().UTC()
	e.log.Info("ivs emulator: stage session ended", "stage", arn, "session", l.active.ID)
	l.active = nil
	if st, ok := e.state.Stages[arn]; ok {
		st.ActiveSessionID = ""
	}
	// Relay tracks live as long as the session, unless a replication still
	// feeds another stage from them (its source may come back).
	for key := range e.sources {
		if stage, pid := splitSourceKey(key); stage == arn && !e.replicatedLocked(stage, pid) {
			delete(e.sources, key)
		}
	}
}

// sessionInput is the {"stageArn","sessionId"} pair most participant APIs
// take.
type sessionInput struct {
	StageArn  *string `json:"stageArn"`
	SessionID *string `json:"sessionId"`
}

func (v *validator) session(e *Emulator, in sessionInput) {
	v.requiredStr("stageArn", in.StageArn, 1, 128, e.re.stageArn)
	v.requiredStr("sessionId", in.SessionID, 16, 16, e.re.sessionID)
}

// sessionOfLocked finds the session a request names, or answers
// ResourceNotFoundException for its stage or the session.
func (e *Emulator) sessionOfLocked(in sessionInput) (*stageSession, error) {
	if _, err := e.findStageLocked(*in.StageArn); err != nil {
		return nil, err
	}
	s := e.findSessionLocked(*in.StageArn, *in.SessionID)
	if s == nil {
		return nil, notFoundErr("Stage session not found: %s", *in.SessionID)
	}
	return s, nil
}

func (e *Emulator) getStageSession(r *http.Request) (any, error) {
	var in sessionInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.session(e, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.sessionOfLocked(in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"stageSession": s.output()}, nil
}

func (e *Emulator) listStageSessions(r *http.Request) (any, error) {
	var in struct {
		StageArn   *string `json:"stageArn"`
		MaxResults *int    `json:"maxResults"`
		NextToken  *string `json:"nextToken"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.requiredStr("stageArn", in.StageArn, 1, 128, e.re.stageArn)
	v.page(e, in.MaxResults, 100, in.NextToken)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// The model lists no ResourceNotFoundException: an unknown stage simply
	// has no sessions.
	var all []*stageSession
	if l := e.live[*in.StageArn]; l != nil {
		all = l.sessions
	}
	page, next, err := paginate("stageSessions", all, func(s *stageSession) int64 { return s.Seq }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		StageSessions []stageSessionOutput `json:"stageSessions"`
		NextToken     string               `json:"nextToken,omitempty"`
	}{StageSessions: make([]stageSessionOutput, 0, len(page)), NextToken: next}
	for _, s := range page {
		out.StageSessions = append(out.StageSessions, s.output())
	}
	return out, nil
}
