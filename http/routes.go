package http

import (
	"net/http"
)

// routes lists every route of the API with the scope of key it needs. Path
// parameters that hold ARNs must be percent-encoded by clients (the ARN
// contains "/"); ServeMux matches on the escaped path and PathValue returns
// the decoded ARN.
func (s *Server) routes() *http.ServeMux {
	mux := &patternMux{ServeMux: http.NewServeMux()}
	route := func(pattern string, need Scope, h http.HandlerFunc) {
		mux.HandleFunc(pattern, s.requireScope(need, h))
	}

	route("GET /{$}", scopeNone, s.handleRoot)
	route("GET /health", scopeNone, s.handleHealth)
	route("GET /api/health", scopeNone, s.handleHealth)

	route("POST /api/token/publisher", ScopeAdmin, s.handlePublisherToken)
	route("POST /api/token/publisher/end", ScopeAdmin, s.handlePublisherEnd)
	route("POST /api/token/viewer", ScopeViewer, s.handleViewerToken)
	route("POST /api/token/mediaserver", ScopeAdmin, s.handleMediaServerToken)

	route("POST /api/viewer/rejoin", ScopeViewer, s.handleViewerRejoin)
	route("POST /api/viewer/heartbeat", ScopeSession, s.handleViewerHeartbeat)
	route("POST /api/viewer/leave", ScopeSession, s.handleViewerLeave)
	route("GET /api/viewer/list/{stageArn}", ScopeRead, s.handleViewerList)
	route("GET /api/viewer/duration", ScopeViewer, s.handleViewerDuration)
	route("GET /api/viewer/history/{userId}", ScopeRead, s.handleViewerHistory)
	route("GET /api/viewer/stats/{stageArn}", ScopeRead, s.handleViewerStats)

	route("GET /api/stats", ScopeRead, s.handleStats)
	route("GET /api/stats/viewers", ScopeRead, s.handleStatsViewers)
	route("GET /api/stats/stages", ScopeRead, s.handleStatsStages)
	route("GET /api/stats/stages/{stageId}", ScopeRead, s.handleStatsStage)
	route("GET /api/stats/publisher", ScopeRead, s.handleStatsPublisher)

	route("GET /api/stage/list", ScopeRead, s.handleStageList)
	route("GET /api/stage/master/info", ScopeRead, s.handleStageMaster)
	route("POST /api/stage", ScopeAdmin, s.handleStageCreate)
	route("GET /api/stage/{stageArn}", ScopeRead, s.handleStageGet)
	route("PUT /api/stage/{stageArn}", ScopeAdmin, s.handleStageUpdate)
	route("DELETE /api/stage/{stageArn}", ScopeAdmin, s.handleStageDelete)
	route("POST /api/stage/replication/start", ScopeAdmin, s.handleReplicationStart)
	route("DELETE /api/stage/replication/stop", ScopeAdmin, s.handleReplicationStop)
	route("GET /api/stage/replication/status/{stageArn}", ScopeRead, s.handleReplicationStatus)
	route("GET /api/stage/replication/publisher-info", ScopeRead, s.handlePublisherInfo)

	route("GET /api/admin/dead-letters", ScopeAdmin, s.handleDeadLetters)
	route("GET /api/webhooks", ScopeRead, s.handleWebhooks)
	route("GET /api/webhooks/deliveries", ScopeAdmin, s.handleWebhookDeliveries)
	route("POST /api/webhooks/replay", ScopeAdmin, s.handleWebhookReplay)
	route("POST /api/webhooks/targets/{name}/enable", ScopeAdmin, s.handleWebhookEnable)

	// The WebSocket authenticates itself: browsers cannot send headers.
	route("GET /ws", scopeNone, s.handleWebSocket)
	route("GET /metrics", ScopeRead, s.handleMetrics)

	// Pages: they load without a key and ask for one themselves.
	route("GET /api/openapi.json", scopeNone, s.handleOpenAPI)
	if s.Docs != nil {
		mux.Handle("GET /docs/", http.StripPrefix("/docs/", s.Docs))
	}
	if s.Dashboard != nil {
		mux.Handle("GET /dashboard/", http.StripPrefix("/dashboard", s.Dashboard))
	}
	if s.Demo != nil {
		demo := http.StripPrefix("/demo", s.Demo)
		mux.Handle("GET /demo/publish", demo)
		mux.Handle("GET /demo/watch", demo)
		mux.Handle("GET /demo/", demo) // the index and the pages' assets
	}

	if s.Emulator != nil {
		mux.Handle("/ivs/", s.guardEmulator(http.StripPrefix("/ivs", s.Emulator)))
	}
	mux.HandleFunc("/", s.requireKeyForUnknown(s.handleNotFound))
	s.patterns = mux.patterns
	return mux.ServeMux
}

// handleMetrics serves the Prometheus metrics, when they are configured.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		s.handleNotFound(w, r)
		return
	}
	s.Metrics.ServeHTTP(w, r)
}

// handleOpenAPI serves the API document.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	if s.OpenAPI == nil {
		s.handleNotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(s.OpenAPI)
}

// handleNotFound answers unknown routes in the envelope.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.Error(w, r, routeNotFound(r.URL.EscapedPath()))
}

// patternMux remembers the patterns registered, for Patterns.
type patternMux struct {
	*http.ServeMux
	patterns []string
}

func (m *patternMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func (m *patternMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// Patterns lists every route pattern ("METHOD /path/{param}") the handler
// serves, in registration order; the OpenAPI contract test compares it with
// the document. Call it after Handler.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }
