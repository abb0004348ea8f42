package emulator

import (
	"time"

	"github.com/ivslive/ivslive/ivs/emulator/media"
)

// startPublishingLocked records PUBLISH_STARTED, and tells the replications
// of the participant that their source is back.
func (e *Emulator) startPublishingLocked(st *stage, s *stageSession, p *participant) {
	if p.publishing {
		return
	}
	p.publishing, p.Published = true, true
	e.recordLocked(st, s, p, participantEvent{Name: "PUBLISH_STARTED", Replica: p.replicaOf != nil})
	defer e.feedCompositionsLocked(st.Arn)
	for _, rep := range e.state.Replications {
		if rep.SourceStageArn == st.Arn && rep.ParticipantID == p.ID {
			rep.sourceGoneAt = time.Time{}
			rep.SourceSessionID = s.ID
		}
	}
}

// stopPublishingLocked records PUBLISH_STOPPED, ends the subscriptions to
// the participant in its stage, and starts the reconnect window of its
// replications (a window of 0 ends them at once).
func (e *Emulator) stopPublishingLocked(st *stage, s *stageSession, p *participant) {
	if !p.publishing {
		return
	}
	p.publishing = false
	e.recordLocked(st, s, p, participantEvent{Name: "PUBLISH_STOPPED", Replica: p.ReplicationType == replicationDst})
	defer e.feedCompositionsLocked(st.Arn)
	for _, c := range e.conns {
		if !c.publish && c.session == s && c.remote == p.ID {
			e.endConnLocked(c)
		}
	}
	now := e.now().UTC()
	for _, rep := range e.state.Replications {
		if rep.SourceStageArn != st.Arn || rep.ParticipantID != p.ID {
			continue
		}
		if rep.ReconnectWindowSeconds == 0 {
			e.stopReplicationLocked(rep)
			continue
		}
		rep.sourceGoneAt = now
	}
}

// sourceLocked returns the relay tracks of a participant in a stage,
// creating them for a publisher's first connection.
func (e *Emulator) sourceLocked(stageArn, participantID string) *media.Source {
	key := sourceKey(stageArn, participantID)
	src := e.sources[key]
	if src == nil {
		src = media.NewSource(participantID, nil)
		e.sources[key] = src
	}
	return src
}
