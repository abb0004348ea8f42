package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ivslive/ivslive"
)

// Sessions signs and checks viewer session tokens: an HMAC-SHA256 over a
// small JSON payload, "v1.<payload>.<mac>" in base64url. A browser holding
// one can keep its own session alive (heartbeat) and end it (leave)
// without any API key, and nothing else.
//
// The key is a secret of its own, never derived from an API key: every
// viewer's browser holds a (payload, MAC) pair, and a MAC keyed by a
// function of the admin key would let anyone test guesses of that key
// offline.
type Sessions struct {
	key atomic.Pointer[[]byte]
	now func() time.Time
}

// ErrSessionToken is returned for any token that does not verify; the
// reason is deliberately not told to clients.
var ErrSessionToken = errors.New("invalid or expired session token")

// MinSessionSecret is the shortest session-token secret accepted, in bytes.
const MinSessionSecret = 32

// NewSessions returns a signer keyed by secret (at least MinSessionSecret
// bytes). now may be nil for time.Now.
func NewSessions(secret []byte, now func() time.Time) (*Sessions, error) {
	if now == nil {
		now = time.Now
	}
	s := &Sessions{now: now}
	if err := s.SetSecret(secret); err != nil {
		return nil, err
	}
	return s, nil
}

// SetSecret replaces the key: tokens signed with the previous one stop
// verifying. Instances that share their secret through Redis call it when
// the shared value changed under them.
func (s *Sessions) SetSecret(secret []byte) error {
	if len(secret) < MinSessionSecret {
		return fmt.Errorf("the session token secret must be at least %d bytes", MinSessionSecret)
	}
	key := append([]byte(nil), secret...)
	s.key.Store(&key)
	return nil
}

// NewSessionSecret returns a fresh random secret: 32 random bytes, as 64
// hexadecimal characters so it can be stored as text.
func NewSessionSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails; see crypto/rand
	return []byte(hex.EncodeToString(b))
}

// Sign returns a token for c.
func (s *Sessions) Sign(c ivslive.SessionClaims) string {
	payload, _ := json.Marshal(c)
	body := "v1." + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac(body))
}

// Verify checks a token's signature and expiry and returns its claims.
func (s *Sessions) Verify(tok string) (ivslive.SessionClaims, error) {
	var c ivslive.SessionClaims
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
		return ivslive.SessionClaims{}, ErrSessionToken
	}
	if s.now().Unix() >= c.Expires {
		return ivslive.SessionClaims{}, ErrSessionToken
	}
	return c, nil
}

func (s *Sessions) mac(body string) []byte {
	m := hmac.New(sha256.New, *s.key.Load())
	m.Write([]byte(body))
	return m.Sum(nil)
}
