package token

import (
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Verify checks a key-pair token's ES384 signature and expiry with pub and
// returns its claims. IVS does this at join time; ivslive uses it in tests.
func Verify(tokenString string, pub *ecdsa.PublicKey) (*Claims, error) {
	var c Claims
	t, err := jwt.ParseWithClaims(tokenString, &c, func(t *jwt.Token) (any, error) {
		return pub, nil
	}, jwt.WithValidMethods([]string{"ES384"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}
	if !t.Valid {
		return nil, errors.New("verify token: invalid")
	}
	if c.Version != "1.0" {
		return nil, fmt.Errorf("verify token: version %q, want 1.0", c.Version)
	}
	return &c, nil
}

// Inspect returns a participant token's claims without checking its
// signature or expiry: for a client that holds a token it was given and
// needs its whip_url, never to decide whom to trust.
func Inspect(tokenString string) (*Claims, error) {
	var c Claims
	if _, _, err := jwt.NewParser().ParseUnverified(tokenString, &c); err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	return &c, nil
}
