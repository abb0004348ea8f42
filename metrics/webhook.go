package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/webhook"
)

// webhookMetrics count the webhook deliveries per target.
type webhookMetrics struct {
	delivered, failed, retried *prometheus.CounterVec
	dropped                    *prometheus.CounterVec
	duration                   *prometheus.HistogramVec
	lost                       prometheus.Counter
}

var _ webhook.Observer = (*Metrics)(nil)

func newWebhookMetrics() *webhookMetrics {
	return &webhookMetrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_webhook_delivered_total", Help: "Webhook events a target acknowledged (2xx), by target.",
		}, []string{"target"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_webhook_failed_total", Help: "Webhook delivery attempts that failed (no 2xx: error status, timeout, refused address), by target.",
		}, []string{"target"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_webhook_retried_total", Help: "Failed webhook attempts scheduled for another attempt, by target.",
		}, []string{"target"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivslive_webhook_dropped_total", Help: "Webhook events given up, by target and reason (expired: older than WEBHOOK_MAX_AGE; gone: the target answered 410 and was disabled).",
		}, []string{"target", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ivslive_webhook_attempt_duration_seconds", Help: "Webhook delivery attempt duration, by target.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"target"}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ivslive_webhook_events_lost_total", Help: "Events dropped before they were queued for webhooks: the in-memory buffer was full because the queue store was unreachable.",
		}),
	}
}

func (w *webhookMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{w.delivered, w.failed, w.retried, w.dropped, w.duration, w.lost}
}

// Attempted implements webhook.Observer.
func (m *Metrics) Attempted(target string, outcome ivslive.WebhookOutcome, d time.Duration) {
	w := m.webhooks
	w.duration.WithLabelValues(target).Observe(d.Seconds())
	if outcome == ivslive.WebhookDelivered {
		w.delivered.WithLabelValues(target).Inc()
		return
	}
	w.failed.WithLabelValues(target).Inc()
	if outcome == ivslive.WebhookRetrying {
		w.retried.WithLabelValues(target).Inc()
	}
}

// Dropped implements webhook.Observer.
func (m *Metrics) Dropped(target, reason string, n int) {
	m.webhooks.dropped.WithLabelValues(target, reason).Add(float64(n))
}

// Lost implements webhook.Observer.
func (m *Metrics) Lost(n int) { m.webhooks.lost.Add(float64(n)) }

var webhookQueuedDesc = prometheus.NewDesc("ivslive_webhook_queued", "Webhook events waiting for a target (in flight included), shared by every instance.", []string{"target"}, nil)

// queuedCollector reads the webhook queue's length per target at scrape
// time. It leaves the gauge out when the store cannot be read.
type queuedCollector struct {
	queued func(ctx context.Context) (map[string]int64, error)
}

func (c queuedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- webhookQueuedDesc }

func (c queuedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	q, err := c.queued(ctx)
	if err != nil {
		return // the queue store is unreachable: no figure rather than a wrong one
	}
	for target, n := range q {
		ch <- prometheus.MustNewConstMetric(webhookQueuedDesc, prometheus.GaugeValue, float64(n), target)
	}
}

// WatchWebhooks exports the webhook queue's length per target, read at
// scrape time.
func (m *Metrics) WatchWebhooks(queued func(ctx context.Context) (map[string]int64, error)) {
	m.reg.MustRegister(queuedCollector{queued: queued})
}
