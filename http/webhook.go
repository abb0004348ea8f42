package http

import (
	"net/http"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/webhook"
)

// webhookTargetJSON is a webhook target and its health, as GET /api/webhooks
// lists it.
type webhookTargetJSON struct {
	Name           string   `json:"name"`
	URL            string   `json:"url"`
	Events         []string `json:"events"`
	TimeoutMs      int64    `json:"timeoutMs"`
	MaxConnections int      `json:"maxConnections"`
	// Status is ok, failing (attempts failed since the last delivery) or
	// disabled (it answered 410 Gone).
	Status          string  `json:"status"`
	Queued          int64   `json:"queued"`
	Failing         int     `json:"failing"`
	LastDeliveredAt *string `json:"lastDeliveredAt"`
	LastFailedAt    *string `json:"lastFailedAt"`
	LastError       string  `json:"lastError,omitempty"`
	DisabledAt      *string `json:"disabledAt"`
	DisabledReason  string  `json:"disabledReason,omitempty"`
}

// webhooksJSON is the answer of GET /api/webhooks.
type webhooksJSON struct {
	// Enabled is false when no target is configured.
	Enabled bool                `json:"enabled"`
	Targets []webhookTargetJSON `json:"targets"`
	// EventsLost counts events this instance dropped before queueing them.
	EventsLost int64 `json:"eventsLost"`
}

// webhookDeliveryJSON is one delivery attempt.
type webhookDeliveryJSON struct {
	Time       string  `json:"time"`
	Target     string  `json:"target"`
	EventID    string  `json:"eventId"`
	Type       string  `json:"type"`
	StageARN   string  `json:"stageArn"`
	Attempt    int     `json:"attempt"`
	Outcome    string  `json:"outcome"`
	Status     int     `json:"status"`
	Error      string  `json:"error,omitempty"`
	DurationMs float64 `json:"durationMs"`
}

// webhookReplayRequest is the body of POST /api/webhooks/replay.
type webhookReplayRequest struct {
	EventID string `json:"eventId"`
	From    string `json:"from"`
	To      string `json:"to"`
	Target  string `json:"target"`
}

func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := isoTime(t)
	return &s
}

// webhooks returns the webhook service, or the error of a server without
// webhook targets.
func (s *Server) webhooks() (*webhook.Service, error) {
	if s.Webhooks == nil {
		return nil, ivslive.Errorf(ivslive.ENOTFOUND, "no webhook targets are configured (WEBHOOK_URLS, WEBHOOK_TARGETS)")
	}
	return s.Webhooks, nil
}

func (s *Server) handleWebhooks(w http.ResponseWriter, r *http.Request) {
	out := webhooksJSON{Targets: []webhookTargetJSON{}}
	if s.Webhooks != nil {
		targets, err := s.Webhooks.Targets(r.Context())
		if err != nil {
			s.Error(w, r, err)
			return
		}
		out.Enabled, out.EventsLost = true, s.Webhooks.Lost()
		for _, t := range targets {
			status := "ok"
			switch {
			case t.Disabled:
				status = "disabled"
			case t.Failing > 0:
				status = "failing"
			}
			events := t.Events
			if events == nil {
				events = []string{}
			}
			out.Targets = append(out.Targets, webhookTargetJSON{
				Name: t.Name, URL: t.URL, Events: events, TimeoutMs: t.Timeout.Milliseconds(), MaxConnections: t.MaxConns,
				Status: status, Queued: t.Queued, Failing: t.Failing, LastDeliveredAt: timePtr(t.LastDelivered),
				LastFailedAt: timePtr(t.LastFailed), LastError: t.LastError, DisabledAt: timePtr(t.DisabledAt), DisabledReason: t.DisabledReason,
			})
		}
	}
	s.respond(w, http.StatusOK, out, "")
}

func (s *Server) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.webhooks()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f := ivslive.WebhookAttemptFilter{}
	f.Limit, err = queryInt(r, "limit", 50, 1, webhook.DefaultLogSize)
	if err == nil {
		f.Target, err = query(r, "target")
	}
	var failures string
	if err == nil {
		failures, err = query(r, "failures")
	}
	if err == nil && failures != "" && failures != "true" && failures != "false" {
		err = ivslive.Errorf(ivslive.EVALIDATION, "failures must be true or false")
	}
	f.Failures = failures == "true"
	var list []ivslive.WebhookAttempt
	if err == nil {
		list, err = hooks.Attempts(r.Context(), f)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := make([]webhookDeliveryJSON, len(list))
	for i, a := range list {
		out[i] = webhookDeliveryJSON{Time: isoTime(a.Time), Target: a.Target, EventID: a.EventID, Type: a.Type, StageARN: a.StageARN,
			Attempt: a.Attempt, Outcome: string(a.Outcome), Status: a.Status, Error: a.Error, DurationMs: float64(a.Duration.Microseconds()) / 1000}
	}
	s.respond(w, http.StatusOK, webhookDeliveries{Deliveries: out}, "")
}

func (s *Server) handleWebhookReplay(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.webhooks()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var req webhookReplayRequest
	if !s.bind(w, r, &req) {
		return
	}
	replay := webhook.Replay{EventID: req.EventID, Target: req.Target}
	for _, f := range []struct {
		name, raw string
		dst       *time.Time
	}{{"from", req.From, &replay.From}, {"to", req.To, &replay.To}} {
		if f.raw == "" {
			continue
		}
		if *f.dst, err = time.Parse(time.RFC3339Nano, f.raw); err != nil {
			s.Error(w, r, ivslive.Errorf(ivslive.EVALIDATION, "%s must be a time like 2026-03-01T12:00:00.000Z", f.name))
			return
		}
	}
	n, err := hooks.Replay(r.Context(), replay)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, webhookReplayed{Queued: n}, "")
}

func (s *Server) handleWebhookEnable(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.webhooks()
	if err == nil {
		err = hooks.Enable(r.Context(), r.PathValue("name"))
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.respond(w, http.StatusOK, webhookEnabled{Name: r.PathValue("name"), Status: "enabled"}, "")
}

type webhookDeliveries struct {
	Deliveries []webhookDeliveryJSON `json:"deliveries"`
}

type webhookReplayed struct {
	Queued int `json:"queued"`
}

type webhookEnabled struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}
