package ivslive

import (
	"context"
	"time"
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
