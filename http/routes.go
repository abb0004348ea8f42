package http

import (
	"net/http"

	"github.com/ivslive/ivslive"
)

// routes lists every route of the API. Path parameters that hold ARNs must be
// percent-encoded by clients (the ARN contains "/"); ServeMux matches on the
// escaped path and PathValue returns the decoded ARN.
func (s *Server) routes() *http.ServeMux {
	mux := &patternMux{ServeMux: http.NewServeMux()}

	mux.HandleFunc("GET /{$}", s.handleRoot)
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("GET /api/health", s.handleHealth)

	mux.HandleFunc("POST /api/token/publisher", s.handlePublisherToken)
	mux.HandleFunc("POST /api/token/publisher/end", s.handlePublisherEnd)
	mux.HandleFunc("POST /api/token/viewer", s.handleViewerToken)
	mux.HandleFunc("POST /api/token/mediaserver", s.handleMediaServerToken)

	mux.HandleFunc("POST /api/viewer/rejoin", s.handleViewerRejoin)
	mux.HandleFunc("POST /api/viewer/heartbeat", s.handleViewerHeartbeat)
	mux.HandleFunc("POST /api/viewer/leave", s.handleViewerLeave)
	mux.HandleFunc("GET /api/viewer/list/{stageArn}", s.handleViewerList)
	mux.HandleFunc("GET /api/viewer/duration", s.handleViewerDuration)
	mux.HandleFunc("GET /api/viewer/history/{userId}", s.handleViewerHistory)
	mux.HandleFunc("GET /api/viewer/stats/{stageArn}", s.handleViewerStats)

	mux.HandleFunc("GET /api/stats", s.handleStats)
	mux.HandleFunc("GET /api/stats/viewers", s.handleStatsViewers)
	mux.HandleFunc("GET /api/stats/stages", s.handleStatsStages)
	mux.HandleFunc("GET /api/stats/stages/{stageId}", s.handleStatsStage)
	mux.HandleFunc("GET /api/stats/publisher", s.handleStatsPublisher)

	mux.HandleFunc("GET /api/stage/list", s.handleStageList)
	mux.HandleFunc("GET /api/stage/master/info", s.handleStageMaster)
	mux.HandleFunc("POST /api/stage", s.handleStageCreate)
	mux.HandleFunc("GET /api/stage/{stageArn}", s.handleStageGet)
	mux.HandleFunc("PUT /api/stage/{stageArn}", s.handleStageUpdate)
	mux.HandleFunc("DELETE /api/stage/{stageArn}", s.handleStageDelete)
	mux.HandleFunc("POST /api/stage/replication/start", s.handleReplicationStart)
	mux.HandleFunc("DELETE /api/stage/replication/stop", s.handleReplicationStop)
	mux.HandleFunc("GET /api/stage/replication/status/{stageArn}", s.handleReplicationStatus)
	mux.HandleFunc("GET /api/stage/replication/publisher-info", s.handlePublisherInfo)

	if s.Emulator != nil {
		mux.Handle("/ivs/", s.guardEmulator(http.StripPrefix("/ivs", s.Emulator)))
	}
	mux.HandleFunc("/", s.handleNotFound)
	s.patterns = mux.patterns
	return mux.ServeMux
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

// handleNotFound answers unknown routes in the envelope.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.Error(w, r, ivslive.Errorf(ivslive.ENOTFOUND, "路由 %s 不存在", r.URL.EscapedPath()))
}
