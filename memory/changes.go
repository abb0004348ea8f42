package memory

import (
	"context"
	"time"

	"github.com/ivslive/ivslive"
)

// changes is what happened to presence since the last checkpoint: the
// sessions seated since (some may have left again) and the ids of saved
// sessions that ended. Both grow with joins and leaves, never with the
// audience, so a checkpoint at a million viewers writes only the churn.
type changes struct {
	fresh []*session
	gone  []string
	// overflow is set when no checkpoint came for too long: the lists are
	// dropped (they would grow without end) and the next one is full.
	overflow bool
}

// maxTracked bounds the changes kept between two checkpoints.
const maxTracked = 4 << 20

func (c *changes) joined(s *session) {
	if c.overflow {
		return
	}
	c.fresh = append(c.fresh, s)
	c.check()
}

// left notes that s ended; only a saved session needs deleting.
func (c *changes) left(s *session) {
	if s.saved && !c.overflow {
		c.gone = append(c.gone, s.ID)
		c.check()
	}
}

func (c *changes) check() {
	if len(c.fresh)+len(c.gone) > maxTracked {
		*c = changes{overflow: true}
	}
}

var _ ivslive.ChangeTracker = (*Presence)(nil)

// seat puts a new session on st and notes it for the next checkpoint.
// Callers hold p.mu.
func (p *Presence) seat(st *stage, s *session) *session {
	st.viewers[s.UserID] = s
	st.insert(s)
	p.changes.joined(s)
	return s
}

// unseat takes s off st and notes it for the next checkpoint. Callers
// hold p.mu.
func (p *Presence) unseat(st *stage, s *session) {
	delete(st.viewers, s.UserID)
	st.unlink(s)
	p.changes.left(s)
}

// Changes implements ivslive.ChangeTracker. The lock is held for work
// proportional to the changes (and to the sessions silent since
// quietBefore, which the sweeper is about to expire), except for a full
// copy.
func (p *Presence) Changes(_ context.Context, quietBefore time.Time, all bool) (ivslive.PresenceChanges, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out ivslive.PresenceChanges
	if all || p.changes.overflow {
		out.Full = true
		n := 0
		for _, st := range p.order {
			n += len(st.viewers)
		}
		out.Upsert = make([]ivslive.ViewerSession, 0, n)
		for _, st := range p.order {
			for s := st.head; s != nil; s = s.next {
				s.saved = true
				out.Upsert = append(out.Upsert, s.ViewerSession)
			}
		}
		p.changes = changes{}
		return out, nil
	}
	// Silent saved sessions first: the fresh ones are not saved yet, so
	// the two lists never share a session.
	for _, st := range p.order {
		for s := st.head; s != nil && s.LastSeen.Before(quietBefore); s = s.next {
			if s.saved {
				out.Upsert = append(out.Upsert, s.ViewerSession)
			}
		}
	}
	out.Gone = p.changes.gone
	for _, s := range p.changes.fresh {
		if !s.saved && p.find(s.StageARN, s.UserID) == s {
			s.saved = true
			out.Upsert = append(out.Upsert, s.ViewerSession)
		}
	}
	p.changes = changes{}
	return out, nil
}
