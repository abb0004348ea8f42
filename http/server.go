// Package http is the HTTP API: the Node server's routes, fields and envelope,
// on the standard library's ServeMux. routes.go lists every route; the
// handlers are methods on Server, one file per noun; decode and respond are
// the only ways in and out; StatusOf is the one place error codes become
// HTTP statuses.
package http

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/webhook"
)

// SessionTokens signs and checks viewer session tokens (token.Sessions in
// production). Declared here, where it is used, so the HTTP layer depends on
// no signer: Verify fails for any token it did not sign or that expired.
type SessionTokens interface {
	Sign(c ivslive.SessionClaims) string
	Verify(tok string) (ivslive.SessionClaims, error)
}

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
	// WSLimits caps this instance's WebSocket connections.
	WSLimits WSLimits
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
	// TrustProxy says whose X-Forwarded-For to believe for client addresses.
	TrustProxy TrustProxy
	// RateLimit is the budget of each key and each client address on API
	// routes; HeartbeatLimit the separate, larger one of the heartbeat
	// route. Zero Requests turn a budget off.
	RateLimit      ivslive.RateLimit
	HeartbeatLimit ivslive.RateLimit
	// EmulatorControl guards the embedded emulator's control plane at
	// /ivs/; "" is EmulatorLoopback.
	EmulatorControl EmulatorControl
	// AuthFailureLimit is the budget of failed API-key authentications of
	// each client address, spent in Limiter (see authfail.go); zero
	// Requests turn it off.
	AuthFailureLimit ivslive.RateLimit
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
	// Limiter spends the rate budgets; nil turns rate limiting off.
	Limiter ivslive.RateLimiter
	// HeartbeatLimiter, when set, spends the heartbeat budget instead of
	// Limiter. The server gives it a per-instance (memory) limiter in Redis
	// mode: the heartbeat budget is a flood guard, and checking it in Redis
	// would cost two more round trips on the one request that must cost
	// one.
	HeartbeatLimiter ivslive.RateLimiter
	// OnRateLimit, when set, counts refused requests by budget, and
	// OnLimiterError failures of the limiter (it then lets requests through).
	OnRateLimit    func(budget string)
	OnLimiterError func()
	// Sessions signs and checks viewer session tokens; nil disables them.
	Sessions SessionTokens
	// OpenAPI is the API document as JSON, served at /api/openapi.json;
	// Docs renders it at /docs/; Dashboard is the live page at /dashboard/.
	OpenAPI   []byte
	Docs      http.Handler
	Dashboard http.Handler
	// Webhooks, when set, is listed, replayed and re-enabled by the
	// /api/webhooks routes.
	Webhooks *webhook.Service
	// Demo, when set, serves /demo/publish and /demo/watch (embedded mode
	// only: they stream through the in-process emulator).
	Demo http.Handler
	// Emulator, when set, is the in-process IVS emulator mounted at /ivs/.
	Emulator http.Handler
	// Observe, when set, sees every request's status and duration (metrics).
	Observe func(r *http.Request, status int, d time.Duration)

	started  time.Time
	health   *healthCache
	failures blockList
	conns    connCounts
	// lastFailLog rate-limits the warning about an unavailable limiter,
	// lastURLKeyWarn the one about keys in WebSocket URLs (Unix ns).
	lastFailLog, lastURLKeyWarn atomic.Int64
	patterns                    []string
	keys                        []keyDigest
	// buffers and readBuffers recycle response and request buffers: the
	// heartbeat is answered tens of thousands of times a second.
	buffers, readBuffers sync.Pool
	stamp                atomic.Pointer[stamp]
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
	s.keys = digestKeys(s.Config.Keys)
	var h http.Handler = s.routes()
	h = s.rateLimit(h)
	h = s.guardFailures(h)
	h = s.cors(h)
	h = s.securityHeaders(h)
	h = trimSlash(h)
	h = s.recoverPanic(h)
	h = s.accessLog(h)
	h = requestID(h)
	return h
}

func (s *Server) now() time.Time { return s.Now() }
