package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxTokenLifetime is the longest a participant token may be valid: 14 days
// from iat (CreateParticipantToken's 20,160 minutes).
const maxTokenLifetime = 14 * 24 * time.Hour

// maxTokenBytes bounds the bearer token read from a header; a token with 1
// KB of attributes is about 2 KB.
const maxTokenBytes = 8 << 10

// tokenClaims are the claims of an IVS participant token.
type tokenClaims struct {
	jwt.RegisteredClaims
	Resource     string            `json:"resource"`
	UserID       string            `json:"user_id"`
	Attributes   map[string]string `json:"attributes"`
	Version      string            `json:"version"`
	Capabilities struct {
		AllowPublish   bool `json:"allow_publish"`
		AllowSubscribe bool `json:"allow_subscribe"`
	} `json:"capabilities"`
}

// invalidToken is a 401 with the RFC 6750 challenge; IVS records no event
// for token errors, and neither does the emulator.
func invalidToken(format string, args ...any) *apiError {
	return &apiError{Type: "UnauthorizedException", Status: http.StatusUnauthorized, Message: fmt.Sprintf(format, args...)}
}

// verifyJoin checks the participant token of a WHIP or subscribe request
// the way IVS does at join: an ES384 signature by the emulator's key or by
// the imported public key its kid names, exp (at join only: a connection
// outlives its token), a lifetime of at most 14 days, version 1.0, a jti,
// and the stage it was made for.
func (e *Emulator) verifyJoin(r *http.Request, st *stage) (*tokenClaims, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return nil, invalidToken("an Authorization: Bearer <participant token> header is required")
	}
	if len(raw) > maxTokenBytes {
		return nil, invalidToken("participant token is longer than %d bytes", maxTokenBytes)
	}
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(raw, &claims, e.tokenKey,
		jwt.WithValidMethods([]string{jwt.SigningMethodES384.Alg()}), jwt.WithoutClaimsValidation())
	if err != nil {
		return nil, invalidToken("participant token is not valid: %v", err)
	}
	now := e.now()
	switch {
	case claims.ExpiresAt == nil || claims.IssuedAt == nil:
		return nil, invalidToken("participant token has no exp or iat")
	case !now.Before(claims.ExpiresAt.Time):
		return nil, invalidToken("participant token expired at %s", timestamp(claims.ExpiresAt.Time))
	case claims.ExpiresAt.Sub(claims.IssuedAt.Time) > maxTokenLifetime:
		return nil, invalidToken("participant token is valid for more than 14 days")
	case claims.Version != "1.0":
		return nil, invalidToken("participant token version %q is not 1.0", claims.Version)
	case !e.re.jti.MatchString(claims.ID):
		return nil, invalidToken("participant token jti must be 1 to 64 of [a-zA-Z0-9_-]")
	}
	if claims.Resource != st.Arn {
		return nil, &apiError{Type: "AccessDeniedException", Status: http.StatusForbidden,
			Message: fmt.Sprintf("participant token is for %q, not stage %s", claims.Resource, st.Arn)}
	}
	return &claims, nil
}

// tokenKey finds the verification key named by a token's kid.
func (e *Emulator) tokenKey(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == e.keyID {
		return &e.signingKey.PublicKey, nil
	}
	e.mu.Lock()
	k, ok := e.state.PublicKeys[kid]
	var material string
	if ok {
		material = k.Material
	}
	e.mu.Unlock()
	if !ok {
		return nil, errors.New("no public key with this kid (the token's kid must be an imported key's ARN)")
	}
	pub, err := parseP384(e.re.pem.FindString(material))
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", kid, err)
	}
	return pub, nil
}

// identity is who a verified token says joins.
func (c *tokenClaims) identity() identity {
	return identity{ID: c.ID, UserID: c.UserID, Attributes: c.Attributes, Protocol: protocolWHIP}
}
