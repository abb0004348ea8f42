// Package metrics exports ivslive's Prometheus metrics. The registry is
// created in main and passed in; nothing here is global. Counters are
// updated as things happen (requests, tokens, sessions, IVS calls); gauges
// that describe state (viewers per stage, stages by state, the history
// backlog) are read from the service when Prometheus scrapes, so they are
// never stale and cost nothing between scrapes.
package metrics

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/live"
)

// Metrics holds the counters and implements live.Observer.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.HistogramVec
	tokens         *prometheus.CounterVec
	sessionsOpened prometheus.Counter
	sessionsClosed *prometheus.CounterVec
	heartbeats     *prometheus.CounterVec
	ivsCalls       *prometheus.CounterVec
	ivsDuration    *prometheus.HistogramVec
	leader         prometheus.Gauge
	wsClients      prometheus.Gauge
	rateLimited    *prometheus.CounterVec
	limiterErrors  prometheus.Counter
	paceFallbacks  *prometheus.CounterVec
	deadLetters    prometheus.Counter
	webhooks       *webhookMetrics
	ivsEvents      *ivsEventMetrics

	// observers holds the request histogram's child for each (route,
	// method, status) seen, copied on write: looking one up is a plain map
	// read, where WithLabelValues hashes three strings under a lock.
	observers   atomic.Pointer[map[requestLabels]prometheus.Observer]
	observersMu sync.Mutex

	// Totals for the instance counters reported to the leader (CloudWatch).
	tokensIssued atomic.Int64
	apiErrors    atomic.Int64
}

var _ live.Observer = (*Metrics)(nil)

// New registers every metric on reg. state, when set, is read at scrape time
// for the state gauges; backlog, when set, too.
func New(reg *prometheus.Registry, state func(ctx context.Context) (live.Stats, error), backlog func(ctx context.Context) (int64, error)) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ivslive_http_request_duration_seconds", Help: "HTTP request duration by route and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_tokens_issued_total", Help: "Participant tokens issued, by kind (publisher, viewer, mediaserver) and strategy (key-pair, api).",
		}, []string{"kind", "strategy"}),
		sessionsOpened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ivslive_sessions_opened_total", Help: "Viewer sessions opened.",
		}),
		sessionsClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_sessions_closed_total", Help: "Viewer sessions closed, by reason (leave, timeout, disconnected, stage_deleted, ...).",
		}, []string{"reason"}),
		heartbeats: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_heartbeats_total", Help: "Viewer heartbeats, by result (ok, unknown).",
		}, []string{"result"}),
		ivsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_ivs_calls_total", Help: "IVS API calls, by operation and result code (ok or the error code).",
		}, []string{"operation", "code"}),
		ivsDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ivslive_ivs_call_duration_seconds", Help: "IVS API call duration, including pacing waits.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ivslive_leader", Help: "1 when this instance runs the background jobs (scaler, sweeper, snapshots).",
		}),
		wsClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ivslive_websocket_clients", Help: "Connected WebSocket clients.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_rate_limited_total", Help: "Requests refused by the rate limiter, by budget.",
		}, []string{"budget"}),
		limiterErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ivslive_rate_limiter_errors_total", Help: "Rate-limit checks that failed (the request was let through).",
		}),
		paceFallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_ivs_pace_fallbacks_total", Help: "IVS calls paced by this instance alone because the budget shared in Redis failed, by operation.",
		}, []string{"op"}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ivslive_history_dead_letters_total", Help: "Closed-session records the history store refused for their content and kept as dead letters (GET /api/admin/dead-letters).",
		}),
	}
	m.webhooks = newWebhookMetrics()
	m.ivsEvents = newIVSEventMetrics()
	reg.MustRegister(m.ivsEvents.collectors()...)
	m.observers.Store(&map[requestLabels]prometheus.Observer{})
	reg.MustRegister(m.webhooks.collectors()...)
	reg.MustRegister(m.requests, m.tokens, m.sessionsOpened, m.sessionsClosed, m.heartbeats, m.ivsCalls,
		m.ivsDuration, m.leader, m.wsClients, m.rateLimited, m.limiterErrors, m.paceFallbacks, m.deadLetters,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if state != nil || backlog != nil {
		reg.MustRegister(&stateCollector{state: state, backlog: backlog})
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, Timeout: 5 * time.Second})
}

type requestLabels struct {
	route, method string
	status        int
}

// ObserveRequest records one HTTP request; route is the matched pattern.
// A method outside HTTP's standard ones is labelled "other": clients choose
// methods, and each new label value would be a new series kept forever.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	key := requestLabels{route: route, method: standardMethod(method), status: status}
	o, ok := (*m.observers.Load())[key]
	if !ok {
		o = m.addObserver(key)
	}
	o.Observe(d.Seconds())
	if status >= 500 {
		m.apiErrors.Add(1)
	}
}

func (m *Metrics) addObserver(key requestLabels) prometheus.Observer {
	m.observersMu.Lock()
	defer m.observersMu.Unlock()
	old := *m.observers.Load()
	if o, ok := old[key]; ok {
		return o
	}
	o := m.requests.WithLabelValues(key.route, key.method, strconv.Itoa(key.status))
	next := make(map[requestLabels]prometheus.Observer, len(old)+1)
	maps.Copy(next, old)
	next[key] = o
	m.observers.Store(&next)
	return o
}

func standardMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}

// TokenIssued implements live.Observer.
func (m *Metrics) TokenIssued(kind, strategy string) {
	m.tokens.WithLabelValues(kind, strategy).Inc()
	m.tokensIssued.Add(1)
}

// SessionOpened implements live.Observer.
func (m *Metrics) SessionOpened() { m.sessionsOpened.Inc() }

// SessionsClosed implements live.Observer.
func (m *Metrics) SessionsClosed(reason ivslive.EndReason, n int) {
	m.sessionsClosed.WithLabelValues(string(reason)).Add(float64(n))
}

// Heartbeat implements live.Observer.
func (m *Metrics) Heartbeat(ok bool) {
	if ok {
		m.heartbeats.WithLabelValues("ok").Inc()
	} else {
		m.heartbeats.WithLabelValues("unknown").Inc()
	}
}

// DeadLettered implements live.Observer.
func (m *Metrics) DeadLettered(n int) { m.deadLetters.Add(float64(n)) }

// IVSCall records one IVS API call; code is "" on success.
func (m *Metrics) IVSCall(op, code string, d time.Duration) {
	if code == "" {
		code = "ok"
	}
	m.ivsCalls.WithLabelValues(op, code).Inc()
	m.ivsDuration.WithLabelValues(op).Observe(d.Seconds())
}

// SetLeader records whether this instance leads.
func (m *Metrics) SetLeader(leader bool) {
	if leader {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

// SetWebSocketClients records the number of WebSocket clients.
func (m *Metrics) SetWebSocketClients(n int) { m.wsClients.Set(float64(n)) }

// RateLimited counts a request refused by the named budget.
func (m *Metrics) RateLimited(budget string) { m.rateLimited.WithLabelValues(budget).Inc() }

// LimiterError counts a rate-limit check that failed open.
func (m *Metrics) LimiterError() { m.limiterErrors.Inc() }

// IVSPaceFallback counts an IVS call paced by this instance alone because
// the shared budget failed.
func (m *Metrics) IVSPaceFallback(op string) { m.paceFallbacks.WithLabelValues(op).Inc() }

// Totals returns the running totals of tokens issued and API errors (5xx
// answers) of this instance.
func (m *Metrics) Totals() (tokens, apiErrors int64) {
	return m.tokensIssued.Load(), m.apiErrors.Load()
}
