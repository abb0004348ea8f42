package http

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// HealthCheck is one component /api/health looks at.
type HealthCheck struct {
	// Name is the component: "ivs", "presence", "history".
	Name string
	// Mode says which backend it is: "emulator", "aws", "memory", "redis", ...
	Mode string
	// Critical components make the server unhealthy (503) when down; others
	// only degrade it.
	Critical bool
	// CacheFor reuses a result, so health checks never spend a rate quota
	// (IVS allows 5 GetStage/ListStages calls per second).
	CacheFor time.Duration
	// Probe checks the component; it gets a context with a timeout. The map
	// it returns, if any, is shown (a backlog size, say). An error makes the
	// component "down"; an error wrapped by Degraded makes it "degraded",
	// which degrades the server even when the component is critical.
	Probe func(ctx context.Context) (map[string]any, error)
}

// Degraded marks a probe's error as a degradation rather than an outage:
// the component answers but lags (its backlog grows old), so the server is
// degraded, never unhealthy, because of it.
func Degraded(err error) error { return degraded{err} }

type degraded struct{ error }

func (d degraded) Unwrap() error { return d.error }

type componentStatus struct {
	Status    string         `json:"status"`
	Mode      string         `json:"mode,omitempty"`
	LatencyMS float64        `json:"latencyMs"`
	Error     string         `json:"error,omitempty"`
	Info      map[string]any `json:"info,omitempty"`
	checkedAt time.Time
}

type healthCache struct {
	mu      sync.Mutex
	results map[string]componentStatus
}

func newHealthCache() *healthCache { return &healthCache{results: map[string]componentStatus{}} }

const healthTimeout = 2 * time.Second

// handleHealth reports each component's state and latency. Every probe runs
// at once with a timeout, so the answer never hangs; status is healthy,
// degraded (a non-critical part is down) or unhealthy (503).
//
// Anonymous callers (load balancers, uptime checks) get liveness only: the
// Node server's fields, none of which is an audience number. The
// components, with viewer counts, capacity and the token strategy, need a
// key with the read scope; a wrong key counts as a failed authentication
// and gets the anonymous answer.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	results := make([]componentStatus, len(s.Health))
	var wg sync.WaitGroup
	for i, c := range s.Health {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.probe(r.Context(), c)
		}()
	}
	wg.Wait()
	status := "healthy"
	components := make(map[string]componentStatus, len(results))
	redis := "not_configured"
	for i, c := range s.Health {
		res := results[i]
		components[c.Name] = res
		if res.Status != "up" {
			if c.Critical && res.Status == "down" {
				status = "unhealthy"
			} else if status == "healthy" {
				status = "degraded"
			}
		}
		if c.Mode == "redis" {
			redis = map[bool]string{true: "connected", false: "disconnected"}[res.Status == "up"]
		}
	}
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	data := map[string]any{
		"status":  status,
		"uptime":  s.now().Sub(s.started).Seconds(),
		"version": s.Config.Version,
		"services": map[string]any{
			"redis": redis,
			"aws":   map[string]any{"region": s.Config.Region, "stageConfigured": s.Live.MasterARN() != "", "backend": s.Config.IVSBackend},
		},
		"memory": map[string]any{"used": mem.HeapAlloc >> 20, "total": mem.HeapSys >> 20, "unit": "MB"},
	}
	if s.readsHealth(r) {
		data["components"] = components
	}
	if s.Config.Environment != "" {
		data["environment"] = s.Config.Environment
	}
	if status == "unhealthy" {
		s.errorWithData(w, r, ivslive.Errorf(ivslive.EUNAVAILABLE, "服務不可用"), data)
		return
	}
	s.respond(w, http.StatusOK, data, "")
}

// readsHealth reports whether r may see the full health report.
func (s *Server) readsHealth(r *http.Request) bool {
	if s.Config.SkipAuth {
		return true
	}
	key := r.Header.Get("X-Api-Key")
	if key == "" {
		return false
	}
	p, err := s.authenticate(r, key)
	return err == nil && p.allows(ScopeRead)
}

func (s *Server) probe(ctx context.Context, c HealthCheck) componentStatus {
	if c.CacheFor > 0 {
		s.health.mu.Lock()
		res, ok := s.health.results[c.Name]
		s.health.mu.Unlock()
		if ok && s.now().Sub(res.checkedAt) < c.CacheFor {
			return res
		}
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	start := time.Now()
	info, err := c.Probe(ctx)
	res := componentStatus{Status: "up", Mode: c.Mode, Info: info, checkedAt: s.now()}
	res.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	var lag degraded
	switch {
	case errors.As(err, &lag):
		res.Status = "degraded"
		res.Error = ivslive.ErrorMessage(err)
	case err != nil:
		res.Status = "down"
		res.Error = ivslive.ErrorMessage(err)
		if ctx.Err() != nil {
			res.Error = "no answer within " + healthTimeout.String()
		}
	}
	if c.CacheFor > 0 {
		s.health.mu.Lock()
		s.health.results[c.Name] = res
		s.health.mu.Unlock()
	}
	return res
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{
		"service":   "ivslive",
		"version":   s.Config.Version,
		"status":    "running",
		"timestamp": s.timestamp(),
		"endpoints": map[string]string{
			"health": "/health", "publisherToken": "/api/token/publisher", "viewerToken": "/api/token/viewer",
			"stats": "/api/stats", "stages": "/api/stage",
		},
	})
}
