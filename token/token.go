// Package token signs IVS Real-Time participant tokens locally with an ES384
// key pair ("Creating Tokens with a Key Pair" in the IVS user guide), so a
// viewer token costs no AWS call and no share of CreateParticipantToken's
// 50 TPS quota. IVS verifies them with the public key imported by
// ImportPublicKey, whose ARN goes into the JWT header as kid.
package token

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ivslive/ivslive"
)

// Claims is the exact claim set of an IVS key-pair token.
type Claims struct {
	jwt.RegisteredClaims
	UserID       string            `json:"user_id,omitempty"`
	Resource     string            `json:"resource"`
	Topic        string            `json:"topic"`
	EventsURL    string            `json:"events_url"`
	WHIPURL      string            `json:"whip_url"`
	Capabilities Capabilities      `json:"capabilities"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Version      string            `json:"version"`
}

// Capabilities is the capabilities claim.
type Capabilities struct {
	AllowPublish   bool `json:"allow_publish"`
	AllowSubscribe bool `json:"allow_subscribe"`
}

// Limits from the IVS model (ivslive.TokenRequest.Validate checks them):
// duration is 1 minute to 14 days, user ids are at most 128 characters and
// attributes at most 1 KB in total.
const (
	MinDuration   = ivslive.MinTokenDuration
	MaxDuration   = ivslive.MaxTokenDuration
	MaxUserID     = ivslive.MaxTokenUserID
	MaxAttributes = ivslive.MaxTokenAttributes
)

// Signer issues key-pair tokens. It implements ivslive.TokenIssuer.
type Signer struct {
	key    *ecdsa.PrivateKey
	keyARN string
	now    func() time.Time
}

var _ ivslive.TokenIssuer = (*Signer)(nil)

// NewSigner returns a Signer for a P-384 private key whose public half was
// imported into IVS as keyARN. now may be nil for time.Now.
func NewSigner(key *ecdsa.PrivateKey, keyARN string, now func() time.Time) (*Signer, error) {
	if key == nil || key.Curve.Params().Name != "P-384" {
		return nil, errors.New("token: the signing key must be an ECDSA P-384 key")
	}
	if keyARN == "" {
		return nil, errors.New("token: the public key ARN is empty")
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, keyARN: keyARN, now: now}, nil
}

// Strategy implements ivslive.TokenIssuer.
func (s *Signer) Strategy() string { return "key-pair" }

// KeyARN returns the ARN of the imported public key (the JWT kid).
func (s *Signer) KeyARN() string { return s.keyARN }

// IssueToken signs a participant token. The participant id is req.ParticipantID
// or a new random one.
func (s *Signer) IssueToken(_ context.Context, req ivslive.TokenRequest) (ivslive.Token, error) {
	if err := req.Validate(); err != nil {
		return ivslive.Token{}, err
	}
	if req.Stage.Endpoints.Events == "" || req.Stage.Endpoints.WHIP == "" {
		return ivslive.Token{}, ivslive.Errorf(ivslive.ETOKEN, "stage %s has no cached endpoints", req.Stage.ARN)
	}
	pid := req.ParticipantID
	if pid == "" {
		pid = ivslive.NewParticipantID()
	}
	now := s.now().Truncate(time.Second)
	exp := now.Add(req.Duration)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        pid,
		},
		UserID:       req.UserID,
		Resource:     req.Stage.ARN,
		Topic:        ivslive.StageID(req.Stage.ARN),
		EventsURL:    req.Stage.Endpoints.Events,
		WHIPURL:      req.Stage.Endpoints.WHIP,
		Capabilities: capabilities(req.Capabilities),
		Attributes:   req.Attributes,
		Version:      "1.0",
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES384, claims)
	t.Header["kid"] = s.keyARN
	signed, err := t.SignedString(s.key)
	if err != nil {
		return ivslive.Token{}, &ivslive.Error{Code: ivslive.ETOKEN, Err: fmt.Errorf("sign token: %w", err)} // worded by the HTTP layer
	}
	return ivslive.Token{
		Token:         signed,
		ParticipantID: pid,
		UserID:        req.UserID,
		StageARN:      req.Stage.ARN,
		Capabilities:  req.Capabilities,
		ExpiresAt:     exp,
	}, nil
}

func capabilities(cs []ivslive.Capability) Capabilities {
	var c Capabilities
	for _, x := range cs {
		switch x {
		case ivslive.Publish:
			c.AllowPublish = true
		case ivslive.Subscribe:
			c.AllowSubscribe = true
		}
	}
	return c
}

// PublicKey returns the public half of the signing key, which verifies
// what the signer issues.
func (s *Signer) PublicKey() *ecdsa.PublicKey { return &s.key.PublicKey }
