package live

import (
	"context"
	"sync"

	"github.com/ivslive/ivslive"
)

// ListedParticipants is the ParticipantSource for AWS: IVS sends no joined
// or left events, so it polls. Per stage and round it costs a GetStage (the
// active session id) and a ListParticipants per 100 participants, both
// paced within IVS's 5 TPS by the ivs adapter (one budget for every
// instance through Redis). When a stage's session changed since the last
// round, the previous session is listed once more: its participants all
// left when it ended.
type ListedParticipants struct {
	IVS ivslive.IVS

	mu   sync.Mutex
	last map[string]string // stage ARN → session id listed last round
}

var _ ivslive.ParticipantSource = (*ListedParticipants)(nil)

// Changed implements ivslive.ParticipantSource: polling has no push.
func (l *ListedParticipants) Changed() <-chan struct{} { return nil }

// StageParticipants implements ivslive.ParticipantSource.
func (l *ListedParticipants) StageParticipants(ctx context.Context, stageARN string) ([]ivslive.Participant, error) {
	st, err := l.IVS.GetStage(ctx, stageARN)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.last == nil {
		l.last = map[string]string{}
	}
	prev := l.last[stageARN]
	l.mu.Unlock()
	var sessions []string
	if prev != "" && prev != st.ActiveSessionID {
		sessions = append(sessions, prev)
	}
	if st.ActiveSessionID != "" {
		sessions = append(sessions, st.ActiveSessionID)
	}
	seen := map[string]int{}
	var out []ivslive.Participant
	for _, id := range sessions {
		// Unfiltered: one listing gives both the CONNECTED count and the
		// DISCONNECTED leavers, where two filterByState calls cost two.
		ps, err := l.IVS.ListParticipants(ctx, stageARN, id, ivslive.ParticipantFilter{})
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if i, ok := seen[p.ID]; ok { // the newer session's record wins
				out[i] = p
				continue
			}
			seen[p.ID] = len(out)
			out = append(out, p)
		}
	}
	l.mu.Lock()
	l.last[stageARN] = st.ActiveSessionID
	l.mu.Unlock()
	return out, nil
}
