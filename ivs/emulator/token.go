package emulator

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// defaultTokenMinutes is the documented default token duration (12 hours).
const defaultTokenMinutes = 720

// tokenConfig is the model's ParticipantTokenConfiguration, which is also the
// body of CreateParticipantToken minus stageArn.
type tokenConfig struct {
	Duration     *int              `json:"duration"`
	UserID       *string           `json:"userId"`
	Attributes   map[string]string `json:"attributes"`
	Capabilities []string          `json:"capabilities"`
}

// participantToken is the model's ParticipantToken.
type participantToken struct {
	ParticipantID  string            `json:"participantId"`
	Token          string            `json:"token"`
	UserID         string            `json:"userId,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Duration       int               `json:"duration"`
	Capabilities   []string          `json:"capabilities"`
	ExpirationTime string            `json:"expirationTime"`
}

// tokenConfig validates one token configuration; prefix is "" for the
// top-level CreateParticipantToken members.
func (v *validator) tokenConfig(prefix string, c *tokenConfig) {
	name := func(member string) string {
		if prefix == "" {
			return member
		}
		return prefix + "." + member
	}
	v.intRange(name("duration"), c.Duration, 1, 20160)
	v.str(name("userId"), c.UserID, 0, 128, nil)
	v.attributes(name("attributes"), c.Attributes)
	v.count(name("capabilities"), len(c.Capabilities), 2)
	v.enum(name("capabilities"), c.Capabilities, "PUBLISH", "SUBSCRIBE")
}

// mint issues a participant token for st in the IVS key-pair token format:
// an ES384 JWT whose jti is the participant ID. The signing key never
// changes after New, so no lock is needed to read it.
func (e *Emulator) mint(st *stage, c tokenConfig) (participantToken, error) {
	minutes := defaultTokenMinutes
	if c.Duration != nil {
		minutes = *c.Duration
	}
	// An empty list is treated like an absent one: a token that can neither
	// publish nor subscribe is useless, and IVS documents only the default.
	publish, subscribe := len(c.Capabilities) == 0, len(c.Capabilities) == 0
	for _, capability := range c.Capabilities {
		publish = publish || capability == "PUBLISH"
		subscribe = subscribe || capability == "SUBSCRIBE"
	}
	var capabilities []string
	if publish {
		capabilities = append(capabilities, "PUBLISH")
	}
	if subscribe {
		capabilities = append(capabilities, "SUBSCRIBE")
	}

	now := e.now().UTC()
	expires := now.Add(time.Duration(minutes) * time.Minute)
	participantID := randomAlnum(12)
	claims := jwt.MapClaims{
		"exp":          expires.Unix(),
		"iat":          now.Unix(),
		"jti":          participantID,
		"resource":     st.Arn,
		"topic":        st.ID,
		"events_url":   st.Endpoints.Events,
		"whip_url":     st.Endpoints.Whip,
		"capabilities": map[string]bool{"allow_publish": publish, "allow_subscribe": subscribe},
		"version":      "1.0",
	}
	userID := deref(c.UserID)
	if userID != "" {
		claims["user_id"] = userID
	}
	var attrs map[string]string
	if len(c.Attributes) > 0 {
		attrs = maps.Clone(c.Attributes)
		claims["attributes"] = attrs
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, claims)
	tok.Header["kid"] = e.keyID
	signed, err := tok.SignedString(e.signingKey)
	if err != nil {
		return participantToken{}, fmt.Errorf("sign participant token for %s: %w", st.Arn, err)
	}
	return participantToken{
		ParticipantID:  participantID,
		Token:          signed,
		UserID:         userID,
		Attributes:     maps.Clone(attrs),
		Duration:       minutes,
		Capabilities:   slices.Clip(capabilities),
		ExpirationTime: timestamp(expires),
	}, nil
}

func (e *Emulator) createParticipantToken(r *http.Request) (any, error) {
	var in struct {
		StageArn *string `json:"stageArn"`
		tokenConfig
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.requiredStr("stageArn", in.StageArn, 1, 128, e.re.stageArn)
	v.tokenConfig("", &in.tokenConfig)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	st, err := e.findStageLocked(*in.StageArn)
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Signing happens outside the lock: it is the slow part, and the stage
	// fields it reads never change after creation.
	tok, err := e.mint(st, in.tokenConfig)
	if err != nil {
		return nil, internalErr(err)
	}
	return map[string]any{"participantToken": tok}, nil
}

func (e *Emulator) disconnectParticipant(r *http.Request) (any, error) {
	var in struct {
		StageArn      *string `json:"stageArn"`
		ParticipantID *string `json:"participantId"`
		Reason        *string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.requiredStr("stageArn", in.StageArn, 1, 128, e.re.stageArn)
	v.requiredStr("participantId", in.ParticipantID, 0, 64, e.re.tokenID)
	v.str("reason", in.Reason, 0, 128, nil)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.unlockClosing()
	st, err := e.findStageLocked(*in.StageArn)
	if err != nil {
		return nil, err
	}
	if l := e.live[st.Arn]; l != nil && l.active != nil {
		if p := l.active.participants[*in.ParticipantID]; p != nil {
			e.disconnectLocked(st, l.active, p)
		}
	}
	e.log.Info("ivs emulator: participant disconnected", "stage", *in.StageArn, "participant", *in.ParticipantID, "reason", deref(in.Reason))
	return struct{}{}, nil
}

// disconnectLocked ends everything that holds a participant in a session:
// its connections, its virtual publishing, its being a replica.
func (e *Emulator) disconnectLocked(st *stage, s *stageSession, p *participant) {
	for _, c := range p.conns {
		e.endConnLocked(c)
	}
	if p.virtual {
		p.virtual = false
		e.stopPublishingLocked(st, s, p)
	}
	if p.replicaOf != nil {
		e.stopReplicationLocked(p.replicaOf)
	}
	e.leaveIfIdleLocked(st, s, p)
}
