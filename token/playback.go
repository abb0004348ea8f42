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

// Playback tokens open a private IVS channel's playback URL (IVS Low-Latency
// user guide, "Generate and Sign IVS Playback Tokens"): a JWT with header
// {"alg":"ES384","typ":"JWT"}, signed with the private half of a playback
// key pair whose public half was imported with ImportPlaybackKeyPair, and
// the claims below. The player appends it as ?token= to the playback URL.
// IVS names no key in the token: it tries the Region's playback keys.

// PlaybackClaims is the claim set of an IVS playback token.
type PlaybackClaims struct {
	ChannelARN  string `json:"aws:channel-arn"`
	AllowOrigin string `json:"aws:access-control-allow-origin,omitempty"`
	ViewerID    string `json:"aws:viewer-id,omitempty"`
	jwt.RegisteredClaims
}

// Limits IVS puts on playback tokens: a viewer id of at most 40 characters,
// and with a viewer id an exp at most 10 minutes ahead.
const (
	MaxPlaybackViewerID       = 40
	MaxPlaybackViewerDuration = 10 * time.Minute
)

// PlaybackSigner signs playback tokens. It implements
// ivslive.PlaybackTokenIssuer.
type PlaybackSigner struct {
	key *ecdsa.PrivateKey
	now func() time.Time
}

var _ ivslive.PlaybackTokenIssuer = (*PlaybackSigner)(nil)

// NewPlaybackSigner returns a signer for a P-384 playback private key. now
// may be nil for time.Now.
func NewPlaybackSigner(key *ecdsa.PrivateKey, now func() time.Time) (*PlaybackSigner, error) {
	if key == nil || key.Curve.Params().Name != "P-384" {
		return nil, errors.New("token: the playback key must be an ECDSA P-384 key")
	}
	if now == nil {
		now = time.Now
	}
	return &PlaybackSigner{key: key, now: now}, nil
}

// PublicKey returns the half to import with ImportPlaybackKeyPair.
func (s *PlaybackSigner) PublicKey() *ecdsa.PublicKey { return &s.key.PublicKey }

// PlaybackToken implements ivslive.PlaybackTokenIssuer.
func (s *PlaybackSigner) PlaybackToken(_ context.Context, r ivslive.PlaybackTokenRequest) (string, time.Time, error) {
	switch {
	case !ivslive.ValidChannelARN(r.ChannelARN):
		return "", time.Time{}, ivslive.Errorf(ivslive.EVALIDATION, "channelArn is not a valid IVS channel ARN")
	case len(r.ViewerID) > MaxPlaybackViewerID:
		return "", time.Time{}, ivslive.Errorf(ivslive.EVALIDATION, "viewerId must be at most %d characters", MaxPlaybackViewerID)
	case r.Duration <= 0:
		return "", time.Time{}, ivslive.Errorf(ivslive.EVALIDATION, "playback token duration must be positive")
	case r.ViewerID != "" && r.Duration > MaxPlaybackViewerDuration:
		return "", time.Time{}, ivslive.Errorf(ivslive.EVALIDATION, "a playback token with a viewer id lasts at most 10 minutes")
	}
	exp := s.now().Truncate(time.Second).Add(r.Duration)
	claims := PlaybackClaims{
		ChannelARN: r.ChannelARN, AllowOrigin: r.AllowOrigin, ViewerID: r.ViewerID,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(exp)},
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodES384, claims).SignedString(s.key)
	if err != nil {
		return "", time.Time{}, ivslive.WrapError(ivslive.ETOKEN, "playback token signing failed", fmt.Errorf("sign playback token: %w", err))
	}
	return signed, exp, nil
}
