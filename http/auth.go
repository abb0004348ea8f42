package http

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/ivslive/ivslive"
)

// secretEqual compares a presented secret with the expected one in constant
// time. Hashing first makes the comparison independent of both lengths.
func secretEqual(presented, expected string) bool {
	if expected == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(expected))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// authExempt lists what answers without a key: the root, health and the API
// document. Everything under /api/ else needs one; pages outside /api/ do
// their own checks.
func authExempt(path string) bool {
	switch path {
	case "/api/health", "/api/openapi.json":
		return true
	}
	return !strings.HasPrefix(path, "/api/")
}

// requireKey checks x-api-key on API routes.
func (s *Server) requireKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Config.SkipAuth || authExempt(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		key := r.Header.Get("X-Api-Key")
		switch {
		case key == "":
			s.Error(w, r, ivslive.Errorf(ivslive.EUNAUTHORIZED, "缺少 API Key"))
		case !secretEqual(key, s.Config.APIKey):
			s.Error(w, r, ivslive.Errorf(ivslive.EUNAUTHORIZED, "API Key 無效"))
		default:
			next.ServeHTTP(w, r)
		}
	})
}
