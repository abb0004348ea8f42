// Package http is the HTTP API: the Node server's routes, fields and envelope,
// on the standard library's ServeMux. routes.go lists every route; the
// handlers are methods on Server, one file per noun; decode and respond are
// the only ways in and out; StatusOf is the one place error codes become
// HTTP statuses.
package http

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ivslive/ivslive/live"
)

// Config is what the HTTP layer needs from the operator's configuration.
type Config struct {
	// Development (NODE_ENV=development) shows error details to clients.
	Development bool
	// Environment is NODE_ENV as given, echoed by /health.
	Environment string
	// Version is the build version.
	Version string
	// Keys are the accepted API keys: API_SECRET_KEY as admin, and the named,
	// scoped keys of API_KEYS.
	Keys []APIKey
	// WSPublic lets anyone read the WebSocket's stats channels without a key.
	WSPublic bool
	// SkipAuth disables the key check; main allows it only in development.
	SkipAuth bool
	// InternalSecret guards /api/token/mediaserver; empty means the route
	// refuses every request.
	InternalSecret string
	// CORSOrigins is the allow-list of browser origins ("*" echoes any).
	CORSOrigins []string
	// MaxBodyBytes limits request bodies.
	MaxBodyBytes int64
	// Region is AWS_REGION, echoed by /health.
	Region string
	// IVSBackend is "emulator" or "aws", shown by /health.
	IVSBackend string
}

// Server serves the API.
type Server struct {
	Live   *live.Service
	Config Config
	Log    *slog.Logger
	Now    func() time.Time
	// Health lists the components /api/health checks.
	Health []HealthCheck
	// Hub, when set, serves the WebSocket at /ws.
	Hub *Hub
	// Metrics, when set, is served at /metrics to keys with the read scope.
	Metrics http.Handler
	// Emulator, when set, is the in-process IVS emulator mounted at /ivs/.
	Emulator http.Handler
	// Observe, when set, sees every request's status and duration (metrics).
	Observe func(r *http.Request, status int, d time.Duration)

	started  time.Time
	health   *healthCache
	patterns []string
	// buffers recycles response buffers: the heartbeat is answered tens of
	// thousands of times a second.
	buffers sync.Pool
}

// Handler returns the server's handler with its middleware.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Config.MaxBodyBytes <= 0 {
		s.Config.MaxBodyBytes = 1 << 20
	}
	s.started = s.Now()
	s.health = newHealthCache()
	var h http.Handler = s.routes()
	h = s.cors(h)
	h = s.securityHeaders(h)
	h = trimSlash(h)
	h = s.recoverPanic(h)
	h = s.accessLog(h)
	h = requestID(h)
	return h
}

func (s *Server) now() time.Time { return s.Now() }

// clientIP is the peer address.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
