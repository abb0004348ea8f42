package emulator

import "net/http"

// SetPublishing makes participantID a virtual publisher in the stage
// stageArn (publishing true), or ends that (false). A virtual publisher is a
// real participant of the stage's session, with its JOINED,
// PUBLISH_STARTED, PUBLISH_STOPPED and LEFT events and its EventBridge
// events, protocol UNKNOWN and no media: tests and tools use it to say "the
// host publishes" without a WebRTC client, and it can be replicated like
// any publisher (its replicas forward nothing). Unknown stages and a full
// stage are logged and ignored; the HTTP route reports them.
func (e *Emulator) SetPublishing(stageArn, participantID string, publishing bool) {
	if err := e.setPublishing(stageArn, participantID, publishing); err != nil {
		e.log.Warn("ivs emulator: set publishing", "stage", stageArn, "participant", participantID, "err", err)
	}
}

func (e *Emulator) setPublishing(stageArn, participantID string, publishing bool) error {
	e.mu.Lock()
	defer e.unlockClosing()
	st, err := e.findStageLocked(stageArn)
	if err != nil {
		return err
	}
	if !publishing {
		l := e.live[stageArn]
		if l == nil || l.active == nil {
			return nil
		}
		p := l.active.participants[participantID]
		if p == nil || !p.virtual {
			return nil
		}
		p.virtual = false
		if c := p.publishConn(); c == nil || !c.started {
			e.stopPublishingLocked(st, l.active, p)
		}
		e.leaveIfIdleLocked(st, l.active, p)
		return nil
	}
	s := e.activeSessionLocked(st)
	p := e.participantLocked(s, identity{ID: participantID, Protocol: protocolUnknown})
	if p.virtual {
		return nil
	}
	if !p.publishing && publishersLocked(s, participantID) >= e.opts.Quotas.PublishersPerStage {
		e.recordLocked(st, s, p, participantEvent{Name: "JOIN_ERROR", ErrorCode: "QUOTA_EXCEEDED"})
		e.settleSessionLocked(s)
		return quotaErr("stage %s already has %d publishers (quota %d)", stageArn, e.opts.Quotas.PublishersPerStage, e.opts.Quotas.PublishersPerStage)
	}
	p.virtual = true
	e.joinLocked(st, s, p)
	e.startPublishingLocked(st, s, p)
	return nil
}

// handleSetPublishing serves the emulator-only POST /_emulator/publishing
// route with body {"stageArn", "participantId", "publishing"}.
func (e *Emulator) handleSetPublishing(r *http.Request) (any, error) {
	var in struct {
		StageArn      *string `json:"stageArn"`
		ParticipantID *string `json:"participantId"`
		Publishing    *bool   `json:"publishing"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.requiredStr("stageArn", in.StageArn, 1, 128, e.re.stageArn)
	v.requiredStr("participantId", in.ParticipantID, 1, 64, e.re.participantID)
	v.required("publishing", in.Publishing != nil)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := e.setPublishing(*in.StageArn, *in.ParticipantID, *in.Publishing); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
