// Package memory is the single-process presence twin: live viewers, exact
// per-stage counts, expiry and the live publisher, in maps behind one mutex.
// It is the default (embedded mode) and passes the same contract suite as the
// redis twin.
package memory

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// Presence implements ivslive.PresenceStore in memory.
type Presence struct {
	mu        sync.Mutex
	stages    map[string]*stage
	order     []*stage // registration order: assignment ties go to the older stage
	publisher *ivslive.Publisher
	intact    bool
	ivsCounts []ivslive.IVSCount
	changes   changes
	agents    map[string]string // interned user agents (see intern)

	sink ivslive.SessionSink
	now  func() time.Time
	log  *slog.Logger
}

var _ ivslive.PresenceStore = (*Presence)(nil)

// stage holds one stage's live sessions, indexed by user id and threaded on a
// list ordered by last-seen, oldest first, so expiry pops from the front
// without scanning.
type stage struct {
	arn        string
	state      ivslive.StageState
	viewers    map[string]*session
	head, tail *session
}

type session struct {
	ivslive.ViewerSession
	prev, next *session
	// saved is set once the session went into a checkpoint (see Changes).
	saved bool
}

// NewPresence returns an empty store that hands closed sessions to sink. now
// tells the publisher's expiry (nil for time.Now).
func NewPresence(sink ivslive.SessionSink, now func() time.Time, log *slog.Logger) *Presence {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Presence{stages: map[string]*stage{}, agents: map[string]string{}, sink: sink, now: now, log: log}
}

// Ping implements ivslive.PresenceStore; memory is always reachable.
func (p *Presence) Ping(context.Context) error { return nil }

// PutStage implements ivslive.PresenceStore.
func (p *Presence) PutStage(_ context.Context, arn string, state ivslive.StageState) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stages[arn]; ok {
		st.state = state
		return nil
	}
	st := &stage{arn: arn, state: state, viewers: map[string]*session{}}
	p.stages[arn] = st
	p.order = append(p.order, st)
	return nil
}

// RemoveStage implements ivslive.PresenceStore.
func (p *Presence) RemoveStage(ctx context.Context, arn string, now time.Time) ([]ivslive.ClosedSession, error) {
	p.mu.Lock()
	st, ok := p.stages[arn]
	if !ok {
		p.mu.Unlock()
		return nil, nil
	}
	delete(p.stages, arn)
	for s := st.head; s != nil; s = s.next {
		p.changes.left(s)
	}
	for i, s := range p.order {
		if s == st {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
	closed := make([]ivslive.ClosedSession, 0, len(st.viewers))
	for s := st.head; s != nil; s = s.next {
		closed = append(closed, ivslive.ClosedSession{ViewerSession: s.ViewerSession, LeftAt: now, Reason: ivslive.EndStageDeleted})
	}
	p.mu.Unlock()
	// The stage is gone from IVS already; its sessions cannot be restored, so
	// a failing sink is logged rather than undone.
	if err := p.record(ctx, closed, false); err != nil {
		return closed, err
	}
	return closed, nil
}

// Loads implements ivslive.PresenceStore.
func (p *Presence) Loads(context.Context) ([]ivslive.StageLoad, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	loads := make([]ivslive.StageLoad, len(p.order))
	for i, st := range p.order {
		loads[i] = ivslive.StageLoad{ARN: st.arn, State: st.state, Viewers: len(st.viewers)}
	}
	return loads, nil
}

// Intact implements ivslive.PresenceStore: false until MarkIntact, since a
// new process starts empty.
func (p *Presence) Intact(context.Context) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.intact, nil
}

// MarkIntact implements ivslive.PresenceStore.
func (p *Presence) MarkIntact(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.intact = true
	return nil
}

// Viewers implements ivslive.PresenceStore.
func (p *Presence) Viewers(_ context.Context, arn string) ([]ivslive.ViewerSession, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.stages[arn]
	if !ok {
		return nil, nil
	}
	out := make([]ivslive.ViewerSession, 0, len(st.viewers))
	for s := st.head; s != nil; s = s.next {
		out = append(out, s.ViewerSession)
	}
	return out, nil
}

// Session implements ivslive.PresenceStore.
func (p *Presence) Session(_ context.Context, stageARN, userID string) (ivslive.ViewerSession, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.find(stageARN, userID); s != nil {
		return s.ViewerSession, nil
	}
	return ivslive.ViewerSession{}, errSessionNotFound()
}

func (p *Presence) find(stageARN, userID string) *session {
	if st, ok := p.stages[stageARN]; ok {
		return st.viewers[userID]
	}
	return nil
}

// maxAgents bounds the interned user agents: a crafted flood of distinct
// ones costs what it cost before interning, no more.
const maxAgents = 4096

// intern returns the one copy of a user agent: a million viewers send a few
// hundred distinct ones, each about 100 bytes, decoded afresh from every
// request. Callers hold p.mu.
func (p *Presence) intern(ua string) string {
	if v, ok := p.agents[ua]; ok {
		return v
	}
	if len(p.agents) < maxAgents {
		p.agents[ua] = ua
	}
	return ua
}

func errSessionNotFound() error { return ivslive.NotFound(ivslive.RSession) }

// record hands closed sessions to the sink. When restore is set and the sink
// fails, the sessions go back where they were (unless the viewer has a new
// session meanwhile), so nothing the caller did not acknowledge is lost.
func (p *Presence) record(ctx context.Context, closed []ivslive.ClosedSession, restore bool) error {
	if len(closed) == 0 || p.sink == nil {
		return nil
	}
	err := p.sink.RecordSessions(ctx, closed)
	if err == nil {
		return nil
	}
	if !restore {
		p.log.Error("closed sessions could not be recorded", "count", len(closed), "err", err)
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range closed {
		st, ok := p.stages[c.StageARN]
		if !ok || st.viewers[c.UserID] != nil {
			p.log.Error("closed session could not be recorded nor restored", "session", c.ID, "err", err)
			continue
		}
		p.seat(st, &session{ViewerSession: c.ViewerSession})
	}
	return ivslive.ReasonError(ivslive.EUNAVAILABLE, ivslive.RDatabaseUnavailable).WithCause(err)
}
