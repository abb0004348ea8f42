package webhook

import (
	"context"
	"time"

	"github.com/ivslive/ivslive"
)

// TargetStatus is a configured target with its shared state, for the admin
// routes and the dashboard.
type TargetStatus struct {
	ivslive.WebhookTargetStatus
	// URL is the target's URL without credentials, query or fragment.
	URL      string
	Events   []string
	Timeout  time.Duration
	MaxConns int
}

// Targets returns every configured target with its state.
func (s *Service) Targets(ctx context.Context) ([]TargetStatus, error) {
	out := make([]TargetStatus, 0, len(s.targets))
	for _, t := range s.targets {
		st, err := s.store.Target(ctx, t.Name)
		if err != nil {
			return nil, err
		}
		st.Name = t.Name
		out = append(out, TargetStatus{WebhookTargetStatus: st, URL: t.Redacted(), Events: t.Events, Timeout: t.Timeout, MaxConns: t.MaxConns})
	}
	return out, nil
}

// Queued returns how many jobs wait for each target, for metrics.
func (s *Service) Queued(ctx context.Context) (map[string]int64, error) {
	out := make(map[string]int64, len(s.targets))
	for _, t := range s.targets {
		st, err := s.store.Target(ctx, t.Name)
		if err != nil {
			return nil, err
		}
		out[t.Name] = st.Queued
	}
	return out, nil
}

// Attempts returns recent delivery attempts, newest first.
func (s *Service) Attempts(ctx context.Context, f ivslive.WebhookAttemptFilter) ([]ivslive.WebhookAttempt, error) {
	if f.Target != "" {
		if _, err := s.target(f.Target); err != nil {
			return nil, err
		}
	}
	return s.store.Attempts(ctx, f)
}

// Enable lets a target disabled by a 410 Gone receive events again; what
// was dropped meanwhile can be replayed.
func (s *Service) Enable(ctx context.Context, name string) error {
	t, err := s.target(name)
	if err != nil {
		return err
	}
	if err := s.store.Enable(ctx, name); err != nil {
		return err
	}
	t.poke()
	return nil
}

// MaxReplay bounds the events one replay queues.
const MaxReplay = 10_000

// Replay selects archived events to queue again, keeping their ids (a
// receiver that already has one may drop it).
type Replay struct {
	// EventID replays one event; otherwise From and To (inclusive) select
	// events by the time they happened.
	EventID  string
	From, To time.Time
	// Target, when set, replays to that target only; otherwise to every
	// enabled target whose filter takes the event.
	Target string
}

// Replay queues archived events again and returns how many jobs it
// queued. Events of one stage are queued in the order they happened,
// behind what their queues already hold.
func (s *Service) Replay(ctx context.Context, r Replay) (int, error) {
	targets := s.targets
	if r.Target != "" {
		t, err := s.target(r.Target)
		if err != nil {
			return 0, err
		}
		targets = []*target{t}
	}
	var events []ivslive.WebhookEvent
	switch {
	case r.EventID != "":
		if !r.From.IsZero() || !r.To.IsZero() {
			return 0, ivslive.Errorf(ivslive.EVALIDATION, "give eventId, or from and to, not both")
		}
		ev, err := s.store.Event(ctx, r.EventID)
		if err != nil {
			return 0, err
		}
		events = []ivslive.WebhookEvent{ev}
	case r.From.IsZero() || r.To.IsZero():
		return 0, ivslive.Errorf(ivslive.EVALIDATION, "give eventId, or both from and to")
	case r.To.Before(r.From):
		return 0, ivslive.Errorf(ivslive.EVALIDATION, "to is before from")
	default:
		var err error
		if events, err = s.store.Events(ctx, r.From, r.To, MaxReplay+1); err != nil {
			return 0, err
		}
		if len(events) > MaxReplay {
			return 0, ivslive.Errorf(ivslive.EVALIDATION, "the range holds more than %d events: replay a narrower one", MaxReplay).
				WithDetails(map[string]any{"max": MaxReplay})
		}
	}
	var enabled []*target
	for _, t := range targets {
		st, err := s.store.Target(ctx, t.Name)
		if err != nil {
			return 0, err
		}
		if !st.Disabled {
			enabled = append(enabled, t)
		} else if r.Target != "" {
			return 0, ivslive.Errorf(ivslive.ECONFLICT, "webhook target %q is disabled (%s): enable it first", t.Name, st.DisabledReason)
		}
	}
	now := s.now()
	var jobs []ivslive.WebhookJob
	for _, ev := range events {
		for _, t := range enabled {
			if t.Wants(ev.Type) {
				jobs = append(jobs, ivslive.WebhookJob{Event: ev, Target: t.Name, EnqueuedAt: now})
			}
		}
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	if err := s.store.Enqueue(ctx, nil, jobs); err != nil {
		return 0, err
	}
	for _, t := range enabled {
		t.poke()
	}
	return len(jobs), nil
}

func (s *Service) target(name string) (*target, error) {
	for _, t := range s.targets {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, ivslive.Errorf(ivslive.ENOTFOUND, "webhook target %q is not configured", name)
}
