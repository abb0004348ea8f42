package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ivslive/ivslive/sqs"
)

// ivsEventMetrics count what the IVS event consumer does on this instance.
type ivsEventMetrics struct {
	received, duplicates, deferred prometheus.Counter
	applied, dropped, errors       *prometheus.CounterVec
}

var _ sqs.Observer = (*Metrics)(nil)

func newIVSEventMetrics() *ivsEventMetrics {
	return &ivsEventMetrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ivslive_ivs_events_received_total", Help: "Messages received from the IVS event queue (IVS_EVENTS_QUEUE_URL), redeliveries included.",
		}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_ivs_events_applied_total", Help: "IVS events applied by this instance, by event name.",
		}, []string{"event"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ivslive_ivs_events_duplicates_total", Help: "IVS events received again after they were applied (by any instance), deleted without applying.",
		}),
		deferred: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ivslive_ivs_events_deferred_total", Help: "IVS events left for redelivery because another instance was applying them.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_ivs_events_dropped_total", Help: "Messages deleted without being applied, by reason (invalid: not a usable event; ignored: another source or event name; poison: failed too often).",
		}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_ivs_event_errors_total", Help: "IVS event consumer failures, by step (receive, claim, apply, finish, delete); the message is retried.",
		}, []string{"step"}),
	}
}

func (m *ivsEventMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.received, m.applied, m.duplicates, m.deferred, m.dropped, m.errors}
}

// IVSEventReceived implements sqs.Observer.
func (m *Metrics) IVSEventReceived() { m.ivsEvents.received.Inc() }

// IVSEventApplied implements sqs.Observer. The event names are IVS's few,
// checked by the consumer, so the label stays small.
func (m *Metrics) IVSEventApplied(name string) { m.ivsEvents.applied.WithLabelValues(name).Inc() }

// IVSEventDuplicate implements sqs.Observer.
func (m *Metrics) IVSEventDuplicate() { m.ivsEvents.duplicates.Inc() }

// IVSEventDeferred implements sqs.Observer.
func (m *Metrics) IVSEventDeferred() { m.ivsEvents.deferred.Inc() }

// IVSEventDropped implements sqs.Observer.
func (m *Metrics) IVSEventDropped(reason string) { m.ivsEvents.dropped.WithLabelValues(reason).Inc() }

// IVSEventError implements sqs.Observer.
func (m *Metrics) IVSEventError(step string) { m.ivsEvents.errors.WithLabelValues(step).Inc() }
