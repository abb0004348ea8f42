package ivslive

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Capability is what a participant token allows.
type Capability string

// Token capabilities, as IVS names them.
const (
	Publish   Capability = "PUBLISH"
	Subscribe Capability = "SUBSCRIBE"
)

// TokenRequest asks for a participant token on one stage. Stage must carry
// its ARN, and its endpoints when the issuer signs tokens itself.
type TokenRequest struct {
	Stage Stage
	// UserID is the IVS user id, visible to every participant (≤ 128 chars).
	UserID string
	// ParticipantID is the id to use when the issuer chooses it (key-pair
	// tokens, where it becomes the jti); API tokens ignore it.
	ParticipantID string
	Capabilities  []Capability
	Duration      time.Duration
	Attributes    map[string]string
}

// Token limits from the IVS model (CreateParticipantToken): a duration of 1
// minute to 14 days, a user id of at most 128 characters (counted here in
// bytes, which is stricter), attributes of at most 1 KB in total.
const (
	MinTokenDuration   = time.Minute
	MaxTokenDuration   = 14 * 24 * time.Hour
	MaxTokenUserID     = 128
	MaxTokenAttributes = 1024
)

// Validate checks a token request against IVS's limits, so both token
// strategies, the key-pair signer and CreateParticipantToken, refuse the
// same input with the same VALIDATION_ERROR before anything is signed or
// sent. The user id and attributes are shown to every participant: they
// must be valid UTF-8, and the user id free of control characters.
func (r TokenRequest) Validate() error {
	switch {
	case !ValidStageARN(r.Stage.ARN):
		return Errorf(EVALIDATION, "stageArn is not a valid IVS stage ARN")
	case len(r.UserID) > MaxTokenUserID:
		return Errorf(EVALIDATION, "userId must be at most %d characters", MaxTokenUserID)
	case !utf8.ValidString(r.UserID) || strings.IndexFunc(r.UserID, unicode.IsControl) >= 0:
		return Errorf(EVALIDATION, "userId must be UTF-8 text without control characters")
	case r.Duration < MinTokenDuration || r.Duration > MaxTokenDuration:
		return Errorf(EVALIDATION, "token duration must be between 1 minute and 14 days")
	}
	if err := validCapabilities(r.Capabilities); err != nil {
		return err
	}
	n := 0
	for k, v := range r.Attributes {
		n += len(k) + len(v)
		if !utf8.ValidString(k) || !utf8.ValidString(v) || strings.ContainsRune(k+v, 0) {
			return Errorf(EVALIDATION, "token attributes must be UTF-8 text without NUL characters")
		}
	}
	if n > MaxTokenAttributes {
		return Errorf(EVALIDATION, "attributes must be at most %d bytes in total", MaxTokenAttributes)
	}
	return nil
}

// validCapabilities accepts one or both of PUBLISH and SUBSCRIBE, once each.
func validCapabilities(cs []Capability) error {
	if len(cs) == 0 || len(cs) > 2 {
		return Errorf(EVALIDATION, "a token needs one or two capabilities (PUBLISH, SUBSCRIBE)")
	}
	seen := map[Capability]bool{}
	for _, c := range cs {
		if c != Publish && c != Subscribe || seen[c] {
			return Errorf(EVALIDATION, "capability %q is unknown or repeated; want PUBLISH and/or SUBSCRIBE", c)
		}
		seen[c] = true
	}
	return nil
}

// Token is an issued participant token.
type Token struct {
	Token         string
	ParticipantID string
	UserID        string
	StageARN      string
	Capabilities  []Capability
	ExpiresAt     time.Time
}

// TokenIssuer issues participant tokens. Two strategies implement it: the
// token package signs them locally with a key pair (no AWS call), and the ivs
// package asks IVS's CreateParticipantToken.
type TokenIssuer interface {
	IssueToken(ctx context.Context, req TokenRequest) (Token, error)
	// Strategy names the strategy for logs and metrics: "key-pair" or "api".
	Strategy() string
}
