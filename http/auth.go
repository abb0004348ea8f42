package http

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/ivslive/ivslive"
)

// Scope is what a key may do. admin may do everything; read may read stats,
// lists, history and the WebSocket; viewer may mint viewer tokens and keep
// viewers' presence (heartbeat, rejoin, leave, duration).
type Scope string

// Scopes.
const (
	ScopeAdmin  Scope = "admin"
	ScopeRead   Scope = "read"
	ScopeViewer Scope = "viewer"
	// ScopeSession marks the routes a viewer session token may use
	// (heartbeat, leave) besides viewer and admin keys; it is also the scope
	// of a principal authenticated by a session token.
	ScopeSession Scope = "session"
	// scopeNone marks routes that need no key.
	scopeNone Scope = ""
)

// APIKey is one accepted key. Name identifies it in logs; the secret never
// appears anywhere but in the comparison.
type APIKey struct {
	Name   string
	Scope  Scope
	Secret string
}

// Principal is who a request authenticated as.
type Principal struct {
	Name  string
	Scope Scope
	// Session is set when a viewer session token authenticated the request.
	Session *ivslive.SessionClaims
}

// allows reports whether p may use a route that needs scope need.
func (p Principal) allows(need Scope) bool {
	switch {
	case need == scopeNone, p.Scope == ScopeAdmin, p.Scope == need:
		return true
	case need == ScopeSession:
		return p.Scope == ScopeViewer
	}
	return false
}

// PrincipalOf returns the principal the auth middleware let in.
func PrincipalOf(ctx context.Context) (Principal, bool) {
	if st := stateOf(ctx); st != nil && st.principal != nil {
		return *st.principal, true
	}
	return Principal{}, false
}

// secretEqual compares a presented secret with the expected one in constant
// time. Hashing first makes the comparison independent of both lengths.
func secretEqual(presented, expected string) bool {
	if expected == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(expected))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// keyDigest is a configured key as lookupKey compares it: its SHA-256
// digest, computed once, with its principal and its rate-limit keys.
type keyDigest struct {
	digest    [sha256.Size]byte
	principal Principal
	limitKeys [budgets]string // by budget: "api:key:<name>", "heartbeat:key:<name>"
}

func digestKeys(keys []APIKey) []keyDigest {
	out := make([]keyDigest, 0, len(keys))
	for _, k := range keys {
		if k.Secret == "" {
			continue
		}
		d := keyDigest{digest: sha256.Sum256([]byte(k.Secret)), principal: Principal{Name: k.Name, Scope: k.Scope}}
		for b := range d.limitKeys {
			d.limitKeys[b] = budgetNames[b] + ":key:" + k.Name
		}
		out = append(out, d)
	}
	return out
}

// lookupKey finds the key a request presented. The presented key is hashed
// once and compared in constant time with every configured key's digest,
// whatever matches first, so timing says nothing about which key matched or
// how long it is. The result is shared: never modify it.
func (s *Server) lookupKey(presented string) (*keyDigest, bool) {
	d := sha256.Sum256([]byte(presented))
	var found *keyDigest
	for i := range s.keys {
		if subtle.ConstantTimeCompare(d[:], s.keys[i].digest[:]) == 1 && found == nil {
			found = &s.keys[i]
		}
	}
	return found, found != nil
}

// authenticate resolves the request's x-api-key. With SkipAuth (development
// only) every request is admin.
func (s *Server) authenticate(r *http.Request, key string) (Principal, error) {
	if s.Config.SkipAuth {
		return Principal{Name: "skip-auth", Scope: ScopeAdmin}, nil
	}
	if key == "" {
		return Principal{}, ivslive.Errorf(ivslive.EUNAUTHORIZED, "缺少 API Key")
	}
	k, ok := s.lookupKey(key)
	if !ok {
		s.authFailed(r)
		return Principal{}, ivslive.Errorf(ivslive.EUNAUTHORIZED, "API Key 無效")
	}
	return k.principal, nil
}

// sessionClaims returns the claims of a valid "Authorization: Bearer"
// session token. The rate limiter and auth both ask; the token is verified
// once per request and the answer kept in the request state.
func (s *Server) sessionClaims(r *http.Request) (ivslive.SessionClaims, bool) {
	st := stateOf(r.Context())
	if st != nil && st.sessionChecked {
		return st.session, st.sessionOK
	}
	var (
		c  ivslive.SessionClaims
		ok bool
	)
	if bearer, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && s.Sessions != nil {
		var err error
		c, err = s.Sessions.Verify(strings.TrimSpace(bearer))
		ok = err == nil
	}
	if st != nil {
		st.session, st.sessionOK, st.sessionChecked = c, ok, true
	}
	return c, ok
}

// requireScope wraps a handler so it runs only for a principal allowed the
// scope; routes() applies it to every route. A request without x-api-key
// may present a viewer session token instead, which opens only the
// ScopeSession routes.
func (s *Server) requireScope(need Scope, next http.HandlerFunc) http.HandlerFunc {
	if need == scopeNone {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		var (
			p   Principal
			err error
		)
		if key := r.Header.Get("X-Api-Key"); key == "" && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") && !s.Config.SkipAuth {
			c, ok := s.sessionClaims(r)
			switch {
			case !ok:
				err = ivslive.Errorf(ivslive.EUNAUTHORIZED, "session token invalid or expired")
			case need != ScopeSession:
				err = ivslive.Errorf(ivslive.EFORBIDDEN, "a session token may only send heartbeats and leave")
			default:
				p = Principal{Name: "session:" + c.SessionID, Scope: ScopeSession, Session: &c}
			}
		} else if st := stateOf(r.Context()); st != nil && st.key != nil && key != "" && !s.Config.SkipAuth {
			p = *st.key // the rate limiter resolved this request's key already
		} else {
			p, err = s.authenticate(r, key)
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if !p.allows(need) {
			s.Error(w, r, ivslive.Errorf(ivslive.EFORBIDDEN, "this key (%s) has the %s scope; this route needs %s", p.Name, p.Scope, need))
			return
		}
		if st := stateOf(r.Context()); st != nil {
			st.principal = &p
		} else { // a handler mounted without the middleware (tests)
			r = r.WithContext(&requestState{Context: r.Context(), principal: &p})
		}
		next(w, r)
	}
}

// requireKeyForUnknown keeps the Node server's order for paths under /api/
// that match no route: without a valid key 401, with one 404.
func (s *Server) requireKeyForUnknown(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if _, err := s.authenticate(r, r.Header.Get("X-Api-Key")); err != nil {
				s.Error(w, r, err)
				return
			}
		}
		next(w, r)
	}
}
