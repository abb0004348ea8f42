package loadtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The ways heartbeat and leave authenticate, for Options.Auth.
const (
	// AuthKey sends the API key in x-api-key, with userId and stageArn in
	// the body; the Node server understands only this.
	AuthKey = "key"
	// AuthSession sends the viewer's session token from its join answer as
	// "Authorization: Bearer", as a browser does.
	AuthSession = "session"
)

// Defaults applied by Run to options left at their zero value.
const (
	// DefaultConcurrency is the default bound on requests in flight.
	DefaultConcurrency = 64
	// DefaultTimeout is the server's default VIEWER_TIMEOUT.
	DefaultTimeout = 60 * time.Second
	// DefaultSampleEvery is the default period of the accuracy samples.
	DefaultSampleEvery = time.Second
	// DefaultRequestTimeout bounds each request of the default client.
	DefaultRequestTimeout = 30 * time.Second
)

// Options describe a load test run. URL and Duration are required; see the
// field comments for the defaults of the others.
type Options struct {
	// URL is the server's base URL, such as "http://localhost:3000".
	URL string
	// Key is the API key, sent as x-api-key. It needs the viewer scope for
	// viewers, admin for Publisher, and read (or admin) for the accuracy
	// samples. It is never written to a report.
	Key string
	// Viewers is the number of simulated viewers.
	Viewers int
	// Ramp is the time over which the viewers join, evenly spaced; 0 joins
	// them all at once (as fast as Concurrency allows).
	Ramp time.Duration
	// Duration is the whole run, ramp included; the leaves come after it.
	Duration time.Duration
	// Warmup leaves the run's first Warmup out of the routes' figures:
	// requests sent during it are made but not counted (counts, errors,
	// latencies), and rates are over the time after it. With the joins in
	// the warmup, the figures are the steady state's. Default 0.
	Warmup time.Duration
	// Interval is each viewer's heartbeat interval, jittered by ±10 %; 0
	// runs the closed loop (see the package documentation).
	Interval time.Duration
	// Concurrency bounds the requests in flight, and is the number of
	// workers; default DefaultConcurrency.
	Concurrency int
	// LeaveRatio, from 0 to 1, is the share of joined viewers that call
	// leave at the end; the others go silent.
	LeaveRatio float64
	// SilentRatio, from 0 to 1, is the share of viewers that stop
	// heartbeating at SilentAt (spread evenly over the order they join
	// in), so the server's expiry sweeps close thousands at once while
	// the run is still measured. Default 0: every viewer heartbeats to
	// the end.
	SilentRatio float64
	// SilentAt is when, from the start, the SilentRatio viewers send their
	// last heartbeat; it must fall inside the run when SilentRatio is set.
	SilentAt time.Duration
	// Auth is how heartbeat and leave authenticate: AuthKey (the default)
	// or AuthSession.
	Auth string
	// Publisher asks for a publisher token first, which makes the stream
	// live: ivslive refuses viewer tokens while no publisher is.
	Publisher bool
	// UserPrefix starts every simulated user id; default "lt-<random>-" so
	// that runs do not collide.
	UserPrefix string
	// Timeout is the server's VIEWER_TIMEOUT, for the presence model;
	// default DefaultTimeout.
	Timeout time.Duration
	// SampleEvery is how often the server's live count is read for the
	// accuracy report; default DefaultSampleEvery.
	SampleEvery time.Duration
	// Terminal says progress is a terminal: the progress line is then
	// rewritten in place every second (with "\r") instead of a new line
	// being printed every 5 s.
	Terminal bool
	// HTTPClient sends the requests; default a client with keep-alive,
	// MaxIdleConnsPerHost = Concurrency and DefaultRequestTimeout.
	HTTPClient *http.Client
	// SeriesEvery, when positive, also keeps every heartbeat's latency by
	// the window of this length it was sent in, warmup included: the
	// report's HeartbeatSeries, and Report.HeartbeatSplit for the latency
	// during chosen moments (a server's checkpoints, say) and outside them.
	SeriesEvery time.Duration
	// Now reads the wall clock for the report's Start and End; default
	// time.Now. Scheduling and latencies always use the monotonic clock.
	Now func() time.Time
}

// withDefaults returns o checked and completed with the defaults.
func (o Options) withDefaults() (Options, error) {
	u, err := url.Parse(o.URL)
	if o.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, fmt.Errorf("loadtest: URL %q is not an http(s) base URL", o.URL)
	}
	o.URL = strings.TrimRight(o.URL, "/")
	var errs []error
	if o.Viewers < 0 {
		errs = append(errs, errors.New("viewers must not be negative"))
	}
	if o.Duration <= 0 {
		errs = append(errs, errors.New("duration must be positive"))
	}
	if o.Ramp < 0 || o.Ramp > o.Duration {
		errs = append(errs, errors.New("ramp must be between 0 and the duration"))
	}
	if o.Warmup < 0 || (o.Warmup > 0 && o.Warmup >= o.Duration) {
		errs = append(errs, errors.New("warmup must be between 0 and the duration"))
	}
	if o.Interval < 0 {
		errs = append(errs, errors.New("interval must not be negative"))
	}
	if o.Concurrency < 0 {
		errs = append(errs, errors.New("concurrency must not be negative"))
	}
	if o.LeaveRatio < 0 || o.LeaveRatio > 1 || o.LeaveRatio != o.LeaveRatio {
		errs = append(errs, errors.New("leave ratio must be between 0 and 1"))
	}
	if o.SilentRatio < 0 || o.SilentRatio > 1 || o.SilentRatio != o.SilentRatio {
		errs = append(errs, errors.New("silent ratio must be between 0 and 1"))
	}
	if o.SilentRatio > 0 && (o.SilentAt <= 0 || o.SilentAt >= o.Duration || o.Interval == 0) {
		errs = append(errs, errors.New("silent viewers need a heartbeat interval and a silent-at time inside the duration"))
	}
	if o.Timeout < 0 || o.SampleEvery < 0 || o.SeriesEvery < 0 {
		errs = append(errs, errors.New("timeout, sample period and series window must not be negative"))
	}
	switch o.Auth {
	case "":
		o.Auth = AuthKey
	case AuthKey, AuthSession:
	default:
		errs = append(errs, fmt.Errorf("auth must be %q or %q, not %q", AuthKey, AuthSession, o.Auth))
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("loadtest: %w", errors.Join(errs...))
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.SampleEvery == 0 {
		o.SampleEvery = DefaultSampleEvery
	}
	if o.UserPrefix == "" {
		b := make([]byte, 4)
		rand.Read(b)
		o.UserPrefix = "lt-" + hex.EncodeToString(b) + "-"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = defaultClient(o.Concurrency)
	}
	return o, nil
}

// defaultClient keeps one idle connection per possible request in flight:
// the semaphore bounds them all, accuracy samples included.
func defaultClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = concurrency
	t.MaxIdleConnsPerHost = concurrency
	t.MaxConnsPerHost = 0
	t.IdleConnTimeout = 90 * time.Second
	t.DisableKeepAlives = false
	return &http.Client{Transport: t, Timeout: DefaultRequestTimeout}
}

// window is the accuracy window: one heartbeat interval, 1 s in closed loop.
func (o Options) window() time.Duration {
	if o.Interval > 0 {
		return o.Interval
	}
	return time.Second
}

// OptionsEcho is the part of Options a report repeats: everything but the
// key, the client and the clock. Durations are in Go's notation ("1m30s").
type OptionsEcho struct {
	URL         string  `json:"url"`
	Viewers     int     `json:"viewers"`
	Ramp        string  `json:"ramp"`
	Duration    string  `json:"duration"`
	Warmup      string  `json:"warmup,omitempty"`
	Interval    string  `json:"interval"`
	ClosedLoop  bool    `json:"closedLoop"`
	Concurrency int     `json:"concurrency"`
	LeaveRatio  float64 `json:"leaveRatio"`
	SilentRatio float64 `json:"silentRatio,omitempty"`
	SilentAt    string  `json:"silentAt,omitempty"`
	Auth        string  `json:"auth"`
	Publisher   bool    `json:"publisher"`
	UserPrefix  string  `json:"userPrefix"`
	Timeout     string  `json:"timeout"`
	SampleEvery string  `json:"sampleEvery"`
}

// echo returns the options as a report shows them; a password in the URL is
// redacted too.
func (o Options) echo() OptionsEcho {
	shown := o.URL
	if u, err := url.Parse(o.URL); err == nil && u.User != nil {
		u.User = nil
		shown = u.String()
	}
	return OptionsEcho{URL: shown, Viewers: o.Viewers, Ramp: o.Ramp.String(), Duration: o.Duration.String(),
		Warmup: durationOrEmpty(o.Warmup), Interval: o.Interval.String(), ClosedLoop: o.Interval == 0, Concurrency: o.Concurrency,
		LeaveRatio: o.LeaveRatio, SilentRatio: o.SilentRatio, SilentAt: durationOrEmpty(o.SilentAt), Auth: o.Auth, Publisher: o.Publisher, UserPrefix: o.UserPrefix,
		Timeout: o.Timeout.String(), SampleEvery: o.SampleEvery.String()}
}

func durationOrEmpty(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
