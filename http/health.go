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
	data := healthAnswer{
		Status:  status,
		Uptime:  s.now().Sub(s.started).Seconds(),
		Version: s.Config.Version,
		Services: healthServices{
			Redis: redis,
			AWS:   healthAWS{Region: s.Config.Region, StageConfigured: s.Live.MasterARN() != "", Backend: s.Config.IVSBackend},
		},
		Memory:      healthMemory{Used: mem.HeapAlloc >> 20, Total: mem.HeapSys >> 20, Unit: "MB"},
		Environment: s.Config.Environment,
	}
	if s.readsHealth(r) {
		data.Components = components
	}
	if status == "unhealthy" {
		// No reason, no message: the words are the code's (http/messages.go).
		s.errorWithData(w, r, &ivslive.Error{Code: ivslive.EUNAVAILABLE}, data)
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
		res.Error = Message(err)
	case err != nil:
		res.Status = "down"
		res.Error = Message(err)
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
	s.writeJSON(w, http.StatusOK, rootAnswer{
		Service:   "ivslive",
		Version:   s.Config.Version,
		Status:    "running",
		Timestamp: s.timestamp(),
		Endpoints: map[string]string{
			"health": "/health", "publisherToken": "/api/token/publisher", "viewerToken": "/api/token/viewer",
			"stats": "/api/stats", "stages": "/api/stage",
		},
	})
}

// healthAnswer is the Node server's health answer (liveness for anyone)
// plus the components for a key with the read scope.
type healthAnswer struct {
	Status      string                     `json:"status"`
	Uptime      float64                    `json:"uptime"`
	Version     string                     `json:"version"`
	Services    healthServices             `json:"services"`
	Memory      healthMemory               `json:"memory"`
	Components  map[string]componentStatus `json:"components,omitzero"` // {} when no component is probed
	Environment string                     `json:"environment,omitempty"`
}

type healthServices struct {
	Redis string    `json:"redis"`
	AWS   healthAWS `json:"aws"`
}

type healthAWS struct {
	Region          string `json:"region"`
	StageConfigured bool   `json:"stageConfigured"`
	Backend         string `json:"backend"`
}

// healthMemory is the Go heap in MB, where the Node server gave V8's.
type healthMemory struct {
	Used  uint64 `json:"used"`
	Total uint64 `json:"total"`
	Unit  string `json:"unit"`
}

// rootAnswer is GET /: no envelope, as the Node server answered.
type rootAnswer struct {
	Service   string            `json:"service"`
	Version   string            `json:"version"`
	Status    string            `json:"status"`
	Timestamp string            `json:"timestamp"`
	Endpoints map[string]string `json:"endpoints"`
}
