package ivslive

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of the free text kept with a session. A browser's User-Agent can
// run to kilobytes; what identifies it fits in the first 512 bytes.
const (
	MaxUserAgent = 512
	MaxIPText    = 64
)

// CheckID checks an identifier that clients choose and ivslive stores (a
// userId, serverId, participantId, a tag): it must be valid UTF-8 without
// control characters and, when max > 0, at most max bytes. PostgreSQL
// refuses a NUL or a broken UTF-8 sequence in text, and a record it refuses
// must never get as far as the history pipeline. The error names the field.
func CheckID(field, v string, max int) error {
	if max > 0 && len(v) > max {
		return Errorf(EVALIDATION, "%s must be at most %d characters", field, max).WithDetails(map[string]any{"field": field})
	}
	if !utf8.ValidString(v) {
		return Errorf(EVALIDATION, "%s must be valid UTF-8", field).WithDetails(map[string]any{"field": field})
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return Errorf(EVALIDATION, "%s must not contain control characters", field).WithDetails(map[string]any{"field": field})
		}
	}
	return nil
}

// StoredText makes free text (a User-Agent, an address as a client sent it,
// an error message) safe to store: invalid UTF-8 becomes U+FFFD, NULs are
// dropped, and text longer than max bytes (when max > 0) is cut on a rune
// boundary, never inside a multi-byte character.
func StoredText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if max > 0 && len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// Check reports why a session cannot be stored as it is: an identifier
// that is empty, not valid UTF-8 or holds a control character. Both history
// twins refuse such a record the same way (a closed session goes to the
// dead letters, a checkpointed one is left out), whatever their own
// database would accept.
func (s ViewerSession) Check() error {
	for _, f := range [...]struct{ name, v string }{
		{"id", s.ID}, {"userId", s.UserID}, {"stageArn", s.StageARN}, {"participantId", s.ParticipantID},
	} {
		if err := CheckID(f.name, f.v, 0); err != nil {
			return err
		}
	}
	if s.ID == "" || s.UserID == "" || s.StageARN == "" {
		return Errorf(EVALIDATION, "a session needs an id, a userId and a stageArn")
	}
	return nil
}

// Cleaned returns s with its free text made safe to store (StoredText).
func (s ViewerSession) Cleaned() ViewerSession {
	s.UserAgent, s.IP = StoredText(s.UserAgent, MaxUserAgent), StoredText(s.IP, MaxIPText)
	return s
}

// Check is ViewerSession.Check plus a known end reason.
func (c ClosedSession) Check() error {
	if err := c.ViewerSession.Check(); err != nil {
		return err
	}
	if !c.Reason.Valid() {
		return Errorf(EVALIDATION, "endReason %q is not one of leave, timeout, disconnected, kicked, shutdown, stage_deleted", StoredText(string(c.Reason), 32))
	}
	return nil
}

// Valid reports whether r is one of the end reasons history stores.
func (r EndReason) Valid() bool {
	switch r {
	case EndLeave, EndTimeout, EndDisconnected, EndKicked, EndShutdown, EndStageDeleted:
		return true
	}
	return false
}
