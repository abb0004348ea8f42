package emulator

import (
	"sort"
	"time"
)

// ParticipantInfo is one participant of a stage as the emulator knows it:
// what ListParticipants reports, plus when it last left, which IVS keeps
// only in ListParticipantEvents.
type ParticipantInfo struct {
	SessionID     string
	ParticipantID string
	UserID        string
	Connected     bool
	Published     bool
	Replica       bool
	FirstJoin     time.Time // zero if it never connected
	LeftAt        time.Time // its last LEFT, zero if it never left
}

// presenceSessions is how many of a stage's latest sessions
// StageParticipants reports: the active one and the one before it, whose
// participants all left when it ended.
const presenceSessions = 2

// StageParticipants returns the participants of the stage's latest
// sessions, a participant's newest record first wins. Embedded ivslive reads
// it in process, as exact as the emulator is, instead of polling
// ListParticipants within its 5 TPS.
func (e *Emulator) StageParticipants(stageArn string) []ParticipantInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.live[stageArn]
	if l == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []ParticipantInfo
	for i := len(l.sessions) - 1; i >= 0 && i >= len(l.sessions)-presenceSessions; i-- {
		s := l.sessions[i]
		ps := make([]*participant, 0, len(s.participants))
		for _, p := range s.participants {
			ps = append(ps, p)
		}
		sort.Slice(ps, func(a, b int) bool { return ps[a].Seq < ps[b].Seq })
		for _, p := range ps {
			if seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			out = append(out, ParticipantInfo{SessionID: s.ID, ParticipantID: p.ID, UserID: p.UserID,
				Connected: p.Connected, Published: p.Published, Replica: p.ReplicationType == replicationDst,
				FirstJoin: p.FirstJoin, LeftAt: lastLeft(p)})
		}
	}
	return out
}

// lastLeft is the time of a participant's latest LEFT event.
func lastLeft(p *participant) time.Time {
	for i := len(p.events) - 1; i >= 0; i-- {
		if p.events[i].Name == "LEFT" {
			return p.events[i].Time
		}
	}
	return time.Time{}
}

// WatchParticipants returns a channel that receives (coalesced, never
// blocking the emulator) after any participant of any stage connects or
// leaves, and a function that ends the watch. It is the push feed
// EventBridge lacks: IVS sends no joined or left events.
func (e *Emulator) WatchParticipants() (changed <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.watchers == nil {
		e.watchers = map[chan struct{}]struct{}{}
	}
	e.watchers[ch] = struct{}{}
	return ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.watchers, ch)
	}
}

// participantsChangedLocked wakes every watcher.
func (e *Emulator) participantsChangedLocked() {
	for ch := range e.watchers {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}
