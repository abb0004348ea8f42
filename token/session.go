package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// SessionClaims is what a viewer session token vouches for: one session of
// one user on one stage, until Expires.
type SessionClaims struct {
	SessionID string `json:"sid"`
	UserID    string `json:"uid"`
	StageARN  string `json:"arn"`
	Expires   int64  `json:"exp"`
}

// Sessions signs and checks viewer session tokens: an HMAC-SHA256 over a
// small JSON payload, "v1.<payload>.<mac>" in base64url. A browser holding
// one can keep its own session alive (heartbeat) and end it (leave)
// without any API key, and nothing else.
type Sessions struct {
	key []byte
	now func() time.Time
}

// ErrSessionToken is returned for any token that does not verify; the
// reason is deliberately not told to clients.
var ErrSessionToken = errors.New("invalid or expired session token")

// NewSessions returns a signer keyed by secret (at least 32 bytes). now may
// be nil for time.Now.
func NewSessions(secret []byte, now func() time.Time) (*Sessions, error) {
	if len(secret) < 32 {
		return nil, errors.New("the session token secret must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	return &Sessions{key: append([]byte(nil), secret...), now: now}, nil
}

// DeriveSessionSecret derives the session-token key from another secret
// (the admin API key), so a single-secret deployment needs no extra
// configuration; rotating that secret invalidates outstanding tokens.
func DeriveSessionSecret(from string) []byte {
	m := hmac.New(sha256.New, []byte(from))
	m.Write([]byte("ivslive viewer session tokens v1"))
	return m.Sum(nil)
}

// Sign returns a token for c.
func (s *Sessions) Sign(c SessionClaims) string {
	payload, _ := json.Marshal(c)
	body := "v1." + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac(body))
}

// Verify checks a token's signature and expiry and returns its claims.
func (s *Sessions) Verify(tok string) (SessionClaims, error) {
	var c SessionClaims
	if len(tok) > 1024 {
		return c, ErrSessionToken
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || !strings.HasPrefix(tok, "v1.") {
		return c, ErrSessionToken
	}
	body, sig := tok[:i], tok[i+1:]
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(body)) {
		return c, ErrSessionToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(body, "v1."))
	if err != nil || json.Unmarshal(payload, &c) != nil || c.SessionID == "" || c.UserID == "" || c.StageARN == "" {
		return SessionClaims{}, ErrSessionToken
	}
	if s.now().Unix() >= c.Expires {
		return SessionClaims{}, ErrSessionToken
	}
	return c, nil
}

func (s *Sessions) mac(body string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}
