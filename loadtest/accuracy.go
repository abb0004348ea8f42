package loadtest

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Accuracy compares the server's live count with the simulator's model.
type Accuracy struct {
	// Baseline is the server's count before the first join; the model
	// starts from it.
	Baseline int `json:"baseline"`
	// WindowMs is the accuracy window: one heartbeat interval.
	WindowMs float64 `json:"windowMs"`
	// Samples is the number of counts read; WithinBounds how many lay
	// between the model's minimum and maximum over their window.
	Samples      int `json:"samples"`
	WithinBounds int `json:"withinBounds"`
	// WorstDeviation is the largest distance of a sample outside its
	// window's band; 0 when every sample was within bounds.
	WorstDeviation int `json:"worstDeviation"`
	// Series is every sample, in time order.
	Series []Sample `json:"series,omitempty"`
}

// Sample is one reading of the server's count with the model's band.
type Sample struct {
	// T is when the answer arrived, in seconds since the start.
	T        float64 `json:"t"`
	Server   int     `json:"server"`
	ModelMin int     `json:"modelMin"`
	ModelMax int     `json:"modelMax"`
}

// Deviation is how far the server's count lies outside the model's band; 0
// when it is within bounds.
func (s Sample) Deviation() int {
	switch {
	case s.Server < s.ModelMin:
		return s.ModelMin - s.Server
	case s.Server > s.ModelMax:
		return s.Server - s.ModelMax
	}
	return 0
}

// sample reads the server's count and the model's band over the window
// from one interval before the request to its answer.
func (e *engine) sample(ctx context.Context) (Sample, bool) {
	var data struct {
		TotalViewers *int `json:"totalViewers"`
	}
	res := e.do(ctx, call{route: rStats, method: http.MethodGet, url: e.urlStats, header: e.keyHeader,
		decode: func(b []byte) error {
			if err := decodeData(b, &data); err != nil {
				return err
			}
			if data.TotalViewers == nil {
				return errors.New("unusable answer: no totalViewers")
			}
			return nil
		}})
	if !res.ok {
		return Sample{}, false
	}
	lo, hi := e.model.window(res.sent - e.o.window())
	return Sample{T: seconds(res.done), Server: *data.TotalViewers, ModelMin: lo, ModelMax: hi}, true
}

// sampleEvery samples every SampleEvery until ctx ends.
func (e *engine) sampleEvery(ctx context.Context) {
	t := time.NewTicker(e.o.SampleEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if s, ok := e.sample(ctx); ok {
				e.samples = append(e.samples, s)
			}
		case <-ctx.Done():
			return
		}
	}
}

// accuracy summarises the samples.
func (e *engine) accuracy() Accuracy {
	a := Accuracy{Baseline: e.model.baseline, WindowMs: ms(e.o.window()), Samples: len(e.samples)}
	if len(e.samples) > 0 {
		a.Series = e.samples
	}
	for _, s := range e.samples {
		if d := s.Deviation(); d == 0 {
			a.WithinBounds++
		} else {
			a.WorstDeviation = max(a.WorstDeviation, d)
		}
	}
	return a
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }
