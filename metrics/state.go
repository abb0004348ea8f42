package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ivslive/ivslive/live"
)

// stateCollector reads the live state when Prometheus scrapes: viewers per
// stage, stages by state, totals and the history backlog. Reading it is
// O(stages) (never a list of viewers).
type stateCollector struct {
	state   func(ctx context.Context) (live.Stats, error)
	backlog func(ctx context.Context) (int64, error)
}

var (
	stageViewersDesc  = prometheus.NewDesc("ivslive_stage_viewers", "Live viewers on a managed stage.", []string{"stage_arn", "stage_name", "state"}, nil)
	viewersDesc       = prometheus.NewDesc("ivslive_viewers", "Live viewers on every managed stage.", nil, nil)
	modeViewersDesc   = prometheus.NewDesc("ivslive_viewers_by_mode", "Live viewers by mode: realtime (seated on stages) or playback (the channel's HLS).", []string{"mode"}, nil)
	stagesDesc        = prometheus.NewDesc("ivslive_stages", "Managed stages, by state (active, draining) and kind (master, manual, auto).", []string{"state", "kind"}, nil)
	publisherLiveDesc = prometheus.NewDesc("ivslive_publisher_live", "1 while the publisher is live.", nil, nil)
	stageIVSDesc      = prometheus.NewDesc("ivslive_stage_ivs_connected", "Viewers IVS reports connected to a managed stage (absent when unknown).", []string{"stage_arn", "stage_name"}, nil)
	stageDriftDesc    = prometheus.NewDesc("ivslive_stage_viewer_drift", "Heartbeat viewers minus IVS's connected viewers on a managed stage (absent when unknown).", []string{"stage_arn", "stage_name"}, nil)
	stageNoHostDesc   = prometheus.NewDesc("ivslive_stage_viewers_without_host", "Viewers seated on a stage that lacks the host's media (absent when unknown).", []string{"stage_arn", "stage_name"}, nil)
	capacityLeftDesc  = prometheus.NewDesc("ivslive_capacity_left", "Seats left on active stages.", nil, nil)
	backlogDesc       = prometheus.NewDesc("ivslive_history_backlog", "Closed sessions waiting to be written to the history store.", nil, nil)
	scrapeErrorDesc   = prometheus.NewDesc("ivslive_state_scrape_error", "1 when the live state could not be read at this scrape.", []string{"part"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{stageViewersDesc, stageIVSDesc, stageDriftDesc, stageNoHostDesc, viewersDesc, modeViewersDesc, stagesDesc, publisherLiveDesc, capacityLeftDesc, backlogDesc, scrapeErrorDesc} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if c.state != nil {
		st, err := c.state(ctx)
		ch <- prometheus.MustNewConstMetric(scrapeErrorDesc, prometheus.GaugeValue, boolValue(err != nil), "state")
		if err == nil {
			kinds := map[[2]string]int{}
			for _, v := range st.Stages {
				ch <- prometheus.MustNewConstMetric(stageViewersDesc, prometheus.GaugeValue, float64(v.Viewers), v.ARN, v.Name, string(v.State))
				for desc, n := range map[*prometheus.Desc]*int{stageIVSDesc: v.IVSConnected, stageDriftDesc: v.Drift(), stageNoHostDesc: v.WithoutHost} {
					if n != nil {
						ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(*n), v.ARN, v.Name)
					}
				}
				kind := "manual"
				switch {
				case v.Master:
					kind = "master"
				case v.AutoScaled:
					kind = "auto"
				}
				kinds[[2]string{string(v.State), kind}]++
			}
			for k, n := range kinds {
				ch <- prometheus.MustNewConstMetric(stagesDesc, prometheus.GaugeValue, float64(n), k[0], k[1])
			}
			ch <- prometheus.MustNewConstMetric(viewersDesc, prometheus.GaugeValue, float64(st.TotalViewers))
			ch <- prometheus.MustNewConstMetric(modeViewersDesc, prometheus.GaugeValue, float64(st.TotalViewers), "realtime")
			ch <- prometheus.MustNewConstMetric(modeViewersDesc, prometheus.GaugeValue, float64(st.PlaybackViewers), "playback")
			ch <- prometheus.MustNewConstMetric(publisherLiveDesc, prometheus.GaugeValue, boolValue(st.PublisherLive))
			ch <- prometheus.MustNewConstMetric(capacityLeftDesc, prometheus.GaugeValue, float64(st.CapacityLeft))
		}
	}
	if c.backlog != nil {
		n, err := c.backlog(ctx)
		ch <- prometheus.MustNewConstMetric(scrapeErrorDesc, prometheus.GaugeValue, boolValue(err != nil), "backlog")
		if err == nil {
			ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n))
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
