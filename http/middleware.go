package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ivslive/ivslive"
)

// requestState is what the middleware learns about a request as it goes
// deeper: one context value, made once by requestID and filled in place.
// Filling in place matters: a middleware that replaced the request (with
// WithContext) before the mux would hide r.Pattern, which the mux sets on
// the request it is given, from the access log and the metrics.
//
// It is the request's context itself (it wraps the parent), which saves an
// allocation per request over a context.WithValue holding it.
type requestState struct {
	context.Context
	id       string
	idHeader [1]string // the X-Request-Id header's value, without its own allocation
	// key is the principal of the request's X-Api-Key, when the rate
	// limiter has already looked it up (shared: never modify it);
	// principal is who auth let in.
	key, principal *Principal
	limitKeys      [2]string // the rate limiter's keys, without their own allocation
	// session is the request's verified session token, once sessionClaims
	// has looked (sessionOK says whether it was valid).
	session                   ivslive.SessionClaims
	sessionChecked, sessionOK bool
}

type stateKey struct{}

// Value implements context.Context.
func (st *requestState) Value(key any) any {
	if key == (stateKey{}) {
		return st
	}
	return st.Context.Value(key)
}

func stateOf(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// RequestID returns the request id the middleware put in ctx.
func RequestID(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.id
	}
	return ""
}

// requestID takes X-Request-Id from the client when it is a sane token, or
// makes one — a random per-process prefix and a counter, unique without a
// random read per request — and echoes it in the response.
func requestID(next http.Handler) http.Handler {
	var b [6]byte
	rand.Read(b[:])
	prefix := hex.EncodeToString(b[:]) + "-"
	var seq atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = prefix + strconv.FormatUint(seq.Add(1), 36)
		}
		st := &requestState{Context: r.Context(), id: id}
		st.idHeader[0] = id
		w.Header()["X-Request-Id"] = st.idHeader[:]
		next.ServeHTTP(w, r.WithContext(st))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer
// (WebSocket hijacking, flushing).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// accessLog logs one line per request. Successful heartbeats are logged at
// debug level: at tens of thousands per second they would drown the log and
// cost more than the heartbeat itself.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if s.Observe != nil {
			s.Observe(r, status, d)
		}
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case status < 400 && r.URL.Path == "/api/viewer/heartbeat":
			level = slog.LevelDebug
		}
		if !s.Log.Enabled(r.Context(), level) {
			return
		}
		s.Log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.EscapedPath()),
			slog.String("route", r.Pattern),
			slog.Int("status", status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", d),
			slog.String("ip", s.clientIP(r)),
			slog.String("requestId", RequestID(r.Context())),
		)
	})
}

// recoverPanic turns a panic into a 500 envelope and a logged stack.
func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic", "value", fmt.Sprint(v), "stack", string(debug.Stack()), "requestId", RequestID(r.Context()))
				s.Error(w, r, ivslive.Errorf(ivslive.EINTERNAL, "內部伺服器錯誤"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets helmet's defaults (what the Node server sent) on the
// pages, and on JSON answers the part of OWASP's REST Security Cheat Sheet
// set that does something there: nosniff (JSON is never sniffed into
// HTML or script, which also puts it under the browsers' opaque-response
// blocking, the job of Cross-Origin-Resource-Policy), a CSP that loads
// nothing and forbids framing (frame-ancestors supersedes X-Frame-Options
// in every current browser), and HSTS. Helmet's other headers (COOP,
// Origin-Agent-Cluster, X-XSS-…, X-Download-Options, …) govern documents:
// browsers ignore them on JSON, and on every heartbeat they cost more than
// the heartbeat (the client parses each one too).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	// helmet's default policy without upgrade-insecure-requests: every
	// page here loads only its own origin, so the directive adds nothing on
	// https and breaks the dashboard on a plain-http internal deployment.
	csp := "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';" +
		"img-src 'self' data:;media-src 'self' blob:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline'"
	const hsts = "max-age=15552000; includeSubDomains"
	// Built once: every response shares these (never modified) values, so
	// setting them costs one map store each, no canonicalisation, no
	// allocation.
	page := fixedHeaders(
		"Content-Security-Policy", csp,
		"Cross-Origin-Opener-Policy", "same-origin",
		"Cross-Origin-Resource-Policy", "same-origin",
		"Origin-Agent-Cluster", "?1",
		"Referrer-Policy", "no-referrer",
		"Strict-Transport-Security", hsts,
		"X-Content-Type-Options", "nosniff",
		"X-Dns-Prefetch-Control", "off",
		"X-Download-Options", "noopen",
		"X-Frame-Options", "SAMEORIGIN",
		"X-Permitted-Cross-Domain-Policies", "none",
		"X-Xss-Protection", "0",
	)
	api := fixedHeaders(
		"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'",
		"Strict-Transport-Security", hsts,
		"X-Content-Type-Options", "nosniff",
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPage(r.URL.Path) {
			page.set(w.Header())
		} else {
			api.set(w.Header())
		}
		next.ServeHTTP(w, r)
	})
}

// isPage reports whether path is one of the HTML pages (and their assets).
func isPage(path string) bool {
	return strings.HasPrefix(path, "/docs") || strings.HasPrefix(path, "/dashboard") || strings.HasPrefix(path, "/demo")
}

// headerList is a prebuilt list of canonical header names and values.
type headerList []struct {
	key   string
	value []string
}

func fixedHeaders(kv ...string) headerList {
	l := make(headerList, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		l = append(l, struct {
			key   string
			value []string
		}{http.CanonicalHeaderKey(kv[i]), []string{kv[i+1]}})
	}
	return l
}

func (l headerList) set(h http.Header) {
	for _, kv := range l {
		h[kv.key] = kv.value
	}
}

var (
	varyOrigin       = []string{"Origin"}
	allowCredentials = []string{"true"}
)

// cors follows the Node server: listed origins are echoed, credentials are
// allowed, and preflights end here with 204 before auth.
func (s *Server) cors(next http.Handler) http.Handler {
	allowed := map[string]bool{}
	any := false
	for _, o := range s.Config.CORSOrigins {
		if o == "*" {
			any = true
		}
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The emulator's data plane answers CORS itself: any origin may
		// publish with a participant token, which is not a cookie.
		if strings.HasPrefix(r.URL.Path, "/ivs/whip/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		origin := r.Header.Get("Origin")
		if origin != "" {
			// Only a browser's cross-origin call needs them (the Node
			// server sent them on every answer).
			h["Vary"] = varyOrigin
			h["Access-Control-Allow-Credentials"] = allowCredentials
		}
		if origin != "" && (any || allowed[origin]) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET,POST,PUT,DELETE,OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type,Authorization,X-API-Key,X-Request-Id")
			h.Set("Access-Control-Max-Age", "600")
			h.Set("Content-Length", "0")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// trimSlash ignores a trailing slash on API routes, as Express routing did.
func trimSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") && (strings.HasPrefix(p, "/api/") || p == "/health/") {
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.TrimRight(p, "/")
			if r2.URL.RawPath != "" {
				r2.URL.RawPath = strings.TrimRight(r2.URL.RawPath, "/")
			}
			if r2.URL.Path == "" {
				r2.URL.Path = "/"
			}
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}
