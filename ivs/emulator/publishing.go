package emulator

import "net/http"

// SetPublishing marks participantID as publishing (or no longer publishing)
// in the stage stageArn. The emulator has no media plane, so tests and the
// embedded server call this to say what a real client would be doing. It
// matters for Options.RequirePublishing and for the stage's activeSessionId.
// When the participant stops publishing its replications stay ACTIVE, since
// reconnect windows are not modeled. Unknown stages are ignored (and logged).
func (e *Emulator) SetPublishing(stageArn, participantID string, publishing bool) {
	if err := e.setPublishing(stageArn, participantID, publishing); err != nil {
		e.log.Warn("ivs emulator: set publishing", "stage", stageArn, "participant", participantID, "err", err)
	}
}

func (e *Emulator) setPublishing(stageArn, participantID string, publishing bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.findStageLocked(stageArn); err != nil {
		return err
	}
	if e.publishing[stageArn][participantID] == publishing {
		return nil
	}
	if publishing {
		if e.publishing[stageArn] == nil {
			e.publishing[stageArn] = make(map[string]bool)
		}
		e.publishing[stageArn][participantID] = true
	} else {
		delete(e.publishing[stageArn], participantID)
		if len(e.publishing[stageArn]) == 0 {
			delete(e.publishing, stageArn)
		}
	}
	e.refreshSessionLocked(stageArn)
	return e.commitLocked()
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
