package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run.
type Report struct {
	// Options are the run's options, defaults applied, without the key.
	Options OptionsEcho `json:"options"`
	// Start and End are when the run began and when its last request
	// ended, in UTC.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Routes are keyed by route, as "POST /api/token/viewer"; a route the
	// run never called is absent.
	Routes   map[string]RouteReport `json:"routes"`
	Totals   Totals                 `json:"totals"`
	Accuracy Accuracy               `json:"accuracy"`
	// HeartbeatSeries is the heartbeats' latency window by window
	// (Options.SeriesEvery), warmup included; absent without it.
	HeartbeatSeries []Window `json:"heartbeatSeries,omitempty"`

	series *series // for HeartbeatSplit
	warmup time.Duration
}

// RouteReport is what one route did.
type RouteReport struct {
	// Count is the number of requests, failed ones included.
	Count int64 `json:"count"`
	// Errors counts the failed requests by status: 0 for network errors,
	// and a 2xx status for an answer the simulator could not use.
	Errors map[int]int64 `json:"errors,omitempty"`
	// ErrorTexts groups network errors and unusable answers by their text,
	// and refusals by the API's error code ("refused: STAGE_FULL").
	ErrorTexts map[string]int64 `json:"errorTexts,omitempty"`
	// RPS is Count over the run's wall time.
	RPS float64 `json:"rps"`
	// LatencyMs is the distribution of every request's latency, from send
	// to the whole answer read, failed ones included.
	LatencyMs Latency `json:"latencyMs"`
}

// Totals sum the routes and say what became of the viewers.
type Totals struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	// Joined viewers got a token; Left of them had their leave answered;
	// Silent = Joined − Left stopped without a word.
	Joined int `json:"joined"`
	Left   int `json:"left"`
	Silent int `json:"silent"`
	// SessionFallbacks counts viewers that were to use their session token
	// but got none (the Node server sends none) and used the key instead.
	SessionFallbacks int64 `json:"sessionFallbacks,omitempty"`
}

// report builds the report once every request has ended.
func (e *engine) report(start, end time.Time) *Report {
	r := &Report{Options: e.o.echo(), Start: start.UTC().Round(0), End: end.UTC().Round(0),
		Routes: map[string]RouteReport{}, Accuracy: e.accuracy(),
		series: e.series, warmup: e.o.Warmup}
	if e.series != nil {
		r.HeartbeatSeries = e.series.windows()
	}
	wall := (end.Sub(start) - e.o.Warmup).Seconds()
	for i := range e.rec {
		rec := &e.rec[i]
		n := rec.count.Load()
		if n == 0 {
			continue
		}
		rec.mu.Lock()
		rr := RouteReport{Count: n, Errors: rec.byStatus, ErrorTexts: rec.byText, RPS: rate(n, wall), LatencyMs: latencyOf(rec.lat)}
		rec.mu.Unlock()
		r.Routes[route(i).String()] = rr
		r.Totals.Requests += n
		r.Totals.Errors += rec.errors.Load()
	}
	r.Totals.RPS = rate(r.Totals.Requests, wall)
	r.Totals.Joined = e.joinedCount()
	for i := range r.Totals.Joined {
		if e.joinedAt(i).left.Load() {
			r.Totals.Left++
		}
	}
	r.Totals.Silent = r.Totals.Joined - r.Totals.Left
	r.Totals.SessionFallbacks = e.fallbacks.Load()
	return r
}

func rate(n int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a table of routes followed by the viewers'
// fate and the accuracy verdict.
func (r *Report) WriteText(w io.Writer) {
	o := r.Options
	mode := "interval " + o.Interval
	if o.ClosedLoop {
		mode = "closed loop"
	}
	fmt.Fprintf(w, "%s: %d viewers, ramp %s, duration %s, %s, concurrency %d, auth %s, leave %.0f %%\n",
		o.URL, o.Viewers, o.Ramp, o.Duration, mode, o.Concurrency, o.Auth, o.LeaveRatio*100)
	fmt.Fprintf(w, "ran %s from %s\n\n", r.End.Sub(r.Start).Round(time.Millisecond), r.Start.Format(time.RFC3339))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "route\trequests\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\t")
	for _, name := range r.routeOrder() {
		rr := r.Routes[name]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n", name, rr.Count, rr.RPS,
			rr.LatencyMs.P50, rr.LatencyMs.P90, rr.LatencyMs.P99, rr.LatencyMs.Max, errorSummary(rr))
	}
	fmt.Fprintf(tw, "total\t%d\t%.1f\t\t\t\t\t%d\t\n", r.Totals.Requests, r.Totals.RPS, r.Totals.Errors)
	tw.Flush()
	for _, name := range r.routeOrder() {
		texts := r.Routes[name].ErrorTexts
		for _, t := range sortedKeys(texts) {
			fmt.Fprintf(w, "  %s: %d × %s\n", name, texts[t], t)
		}
	}

	t := r.Totals
	fmt.Fprintf(w, "\nviewers: %d joined, %d left, %d went silent", t.Joined, t.Left, t.Silent)
	if t.SessionFallbacks > 0 {
		fmt.Fprintf(w, " (%d had no session token and used the key)", t.SessionFallbacks)
	}
	fmt.Fprintln(w)
	a := r.Accuracy
	if a.Samples == 0 {
		fmt.Fprintln(w, "accuracy: no sample of the server's count could be read")
		return
	}
	fmt.Fprintf(w, "accuracy: server and simulator agreed in %d of %d samples (%.0f %%), worst deviation %d\n",
		a.WithinBounds, a.Samples, 100*float64(a.WithinBounds)/float64(a.Samples), a.WorstDeviation)
}

// routeOrder lists the report's routes in the order a run calls them.
func (r *Report) routeOrder() []string {
	var names []string
	for i := range numRoutes {
		if n := i.String(); hasKey(r.Routes, n) {
			names = append(names, n)
		}
	}
	for _, n := range sortedKeys(r.Routes) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// errorSummary is "0" or the errors by status, as "503×40 0×2".
func errorSummary(rr RouteReport) string {
	if len(rr.Errors) == 0 {
		return "0"
	}
	statuses := make([]int, 0, len(rr.Errors))
	for s := range rr.Errors {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		parts[i] = fmt.Sprintf("%d×%d", s, rr.Errors[s])
	}
	return strings.Join(parts, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}
