package memory

import (
	"context"
	"time"

	"github.com/ivslive/ivslive"
)

// Join implements ivslive.PresenceStore. Choosing the stage and taking the
// seat happen under one lock, so concurrent joins never overfill a stage.
func (p *Presence) Join(_ context.Context, r ivslive.JoinRequest) (ivslive.JoinResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := p.choose(r)
	if err != nil {
		return ivslive.JoinResult{}, err
	}
	if s := st.viewers[r.UserID]; s != nil {
		// Same user, same stage: one session, original id and joined-at.
		if r.ParticipantID != "" {
			s.ParticipantID = r.ParticipantID
		}
		if r.UserAgent != "" {
			s.UserAgent = p.intern(r.UserAgent)
		}
		if r.IP != "" {
			s.IP = r.IP
		}
		st.touch(s, r.Now)
		return ivslive.JoinResult{Session: s.ViewerSession, Viewers: len(st.viewers), New: false}, nil
	}
	s := p.seat(st, &session{ViewerSession: ivslive.ViewerSession{
		ID: r.SessionID, UserID: r.UserID, StageARN: st.arn, ParticipantID: r.ParticipantID,
		JoinedAt: r.Now, LastSeen: r.Now, UserAgent: p.intern(r.UserAgent), IP: r.IP,
	}})
	return ivslive.JoinResult{Session: s.ViewerSession, Viewers: len(st.viewers), New: true}, nil
}

// choose picks the stage for a join: the requested one, the one the user is
// already on, the least-loaded active stage under the threshold, or the
// least-loaded active stage under capacity.
func (p *Presence) choose(r ivslive.JoinRequest) (*stage, error) {
	if r.StageARN != "" {
		st, ok := p.stages[r.StageARN]
		if !ok {
			return nil, ivslive.NotFound(ivslive.RStage)
		}
		if st.viewers[r.UserID] != nil {
			return st, nil
		}
		if st.state != ivslive.StageActive && st.state != ivslive.StageNamed {
			return nil, ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RStageClosing)
		}
		if len(st.viewers) >= r.Capacity {
			return nil, ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RStageFull)
		}
		return st, nil
	}
	for _, st := range p.order {
		if st.viewers[r.UserID] != nil {
			return st, nil
		}
	}
	var best *stage
	for _, limit := range []int{r.Threshold, r.Capacity} {
		for _, st := range p.order {
			if st.state != ivslive.StageActive || len(st.viewers) >= limit {
				continue
			}
			if best == nil || len(st.viewers) < len(best.viewers) {
				best = st
			}
		}
		if best != nil {
			return best, nil
		}
	}
	return nil, ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RStageFull)
}

// SetParticipant implements ivslive.PresenceStore.
func (p *Presence) SetParticipant(_ context.Context, stageARN, userID, sessionID, participantID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.find(stageARN, userID)
	if s == nil || s.ID != sessionID {
		return errSessionNotFound()
	}
	s.ParticipantID = participantID
	return nil
}

// Release implements ivslive.PresenceStore.
func (p *Presence) Release(_ context.Context, stageARN, userID, sessionID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.find(stageARN, userID)
	if s == nil || s.ID != sessionID {
		return nil
	}
	p.unseat(p.stages[stageARN], s)
	return nil
}

// Heartbeat implements ivslive.PresenceStore.
func (p *Presence) Heartbeat(_ context.Context, r ivslive.HeartbeatRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.find(r.StageARN, r.UserID)
	if s == nil || (r.SessionID != "" && s.ID != r.SessionID) {
		return errSessionNotFound()
	}
	p.stages[r.StageARN].touch(s, r.Now)
	return nil
}

// Leave implements ivslive.PresenceStore.
func (p *Presence) Leave(ctx context.Context, r ivslive.LeaveRequest) (ivslive.ClosedSession, error) {
	p.mu.Lock()
	s := p.find(r.StageARN, r.UserID)
	if s == nil || (r.SessionID != "" && s.ID != r.SessionID) {
		p.mu.Unlock()
		return ivslive.ClosedSession{}, errSessionNotFound()
	}
	p.unseat(p.stages[r.StageARN], s)
	p.mu.Unlock()
	reason := r.Reason
	if reason == "" {
		reason = ivslive.EndLeave
	}
	c := ivslive.ClosedSession{ViewerSession: s.ViewerSession, LeftAt: r.Now, Reason: reason}
	if c.LeftAt.Before(c.LastSeen) {
		c.LeftAt = c.LastSeen
	}
	if err := p.record(ctx, []ivslive.ClosedSession{c}, true); err != nil {
		return ivslive.ClosedSession{}, err
	}
	return c, nil
}

// Expire implements ivslive.PresenceStore. Each stage's list is ordered by
// last-seen, so the work is proportional to the sessions expired.
func (p *Presence) Expire(ctx context.Context, cutoff time.Time, max int) ([]ivslive.ClosedSession, error) {
	p.mu.Lock()
	var closed []ivslive.ClosedSession
	for _, st := range p.order {
		for st.head != nil && st.head.LastSeen.Before(cutoff) && len(closed) < max {
			s := st.head
			p.unseat(st, s)
			closed = append(closed, ivslive.ClosedSession{ViewerSession: s.ViewerSession, LeftAt: s.LastSeen, Reason: ivslive.EndTimeout})
		}
	}
	p.mu.Unlock()
	if err := p.record(ctx, closed, true); err != nil {
		return nil, err
	}
	return closed, nil
}

// touch moves s to its place for a new last-seen time. Heartbeats only move
// time forward, so s almost always goes to the tail in O(1).
func (st *stage) touch(s *session, now time.Time) {
	if !now.After(s.LastSeen) {
		return
	}
	s.LastSeen = now
	st.unlink(s)
	st.insert(s)
}

// insert threads s into the list, walking back from the tail to keep the
// list ordered by last-seen.
func (st *stage) insert(s *session) {
	at := st.tail
	for at != nil && at.LastSeen.After(s.LastSeen) {
		at = at.prev
	}
	s.prev = at
	if at == nil {
		s.next = st.head
		st.head = s
	} else {
		s.next = at.next
		at.next = s
	}
	if s.next == nil {
		st.tail = s
	} else {
		s.next.prev = s
	}
}

func (st *stage) unlink(s *session) {
	if s.prev == nil {
		st.head = s.next
	} else {
		s.prev.next = s.next
	}
	if s.next == nil {
		st.tail = s.prev
	} else {
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
}

// Restore implements ivslive.PresenceStore.
func (p *Presence) Restore(_ context.Context, sessions []ivslive.ViewerSession) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, v := range sessions {
		st, ok := p.stages[v.StageARN]
		if !ok || st.viewers[v.UserID] != nil {
			// Stored, not live: the next checkpoint deletes it.
			p.changes.left(&session{ViewerSession: v, saved: true})
			continue
		}
		// Stored already: the next checkpoint need not write it.
		s := &session{ViewerSession: v, saved: true}
		s.StageARN, s.UserAgent = st.arn, p.intern(v.UserAgent)
		st.viewers[v.UserID] = s
		st.insert(s)
		n++
	}
	return n, nil
}
