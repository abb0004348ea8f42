// Package app wires ivslive: it opens every part in dependency order from a
// Config and runs them until told to stop. `ivslive serve` and the tests'
// in-process server (internal/apitest) both start the application through
// New, as WTF Dial's Main does, so the tests run the program that ships.
// The test-only substitutions (a fake clock, another presence or history
// store, emulator options, …) are explicit fields of Options; left zero,
// New does exactly what serve does.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/metrics"
	"github.com/ivslive/ivslive/sqs"
	"github.com/ivslive/ivslive/webhook"
)

// Options are what New takes besides the configuration. Stdout and Stderr
// are serve's; every other field is a substitution for tests, and
// production leaves it zero.
type Options struct {
	// Stdout receives what the operator must see once (the generated API
	// key, the address served); nil discards it.
	Stdout io.Writer
	// Stderr receives the log, at LOG_LEVEL; nil discards it.
	Stderr io.Writer

	// Log, when set, replaces the logger made from Stderr.
	Log *slog.Logger
	// Now, when set, is the clock of every part (core, stores, emulator,
	// signers, webhooks); nil is the wall clock.
	Now func() time.Time
	// History, when set, replaces the history store; the caller closes it.
	History func(ctx context.Context) (History, error)
	// Sink, when set, wraps where the presence stores hand closed sessions.
	Sink func(next ivslive.SessionSink) ivslive.SessionSink
	// Presence, when set, replaces the presence store of memory mode.
	Presence func(sink ivslive.SessionSink) (ivslive.PresenceStore, error)
	// Emulator and IVS tune the embedded emulator's and the IVS client's
	// options after New has set its own.
	Emulator func(o *emulator.Options)
	IVS      func(o *ivs.Options)
	// Live, HTTP and Playback tune the core's, the HTTP layer's and the
	// playback configuration after New has derived them from Config.
	Live     func(c *live.Config)
	HTTP     func(c *ivshttp.Config)
	Playback func(p *live.Playback)
	// Events, when set, builds the event publisher that feeds the bus.
	Events func(bus *live.Bus) ivslive.EventPublisher
	// IVSEvents, when set, tunes the IVS event consumer; EventLog replaces
	// its event log.
	IVSEvents func(c *sqs.Consumer)
	EventLog  ivslive.EventLog
	// Webhooks, when set, runs the webhook service with this configuration
	// instead of the targets of the Config, on WebhookStore when that is
	// set (else the queue New opens).
	Webhooks     *webhook.Config
	WebhookStore webhook.Store
	// Limiter and HeartbeatLimiter, when set, replace the HTTP layer's rate
	// limiters.
	Limiter, HeartbeatLimiter ivslive.RateLimiter
	// NoJobs leaves out the leader election and the leader's jobs (sweeper,
	// scaler, snapshots, attendance): the test drives them.
	NoJobs bool
}

// App is one running ivslive and everything it opened, closed in reverse.
// Its exported fields are the parts New built, for the tests to reach.
type App struct {
	cfg  Config
	opts Options
	log  *slog.Logger
	// stdout is Options.Stdout, never nil.
	stdout   io.Writer
	listener net.Listener
	srv      *http.Server
	// servers are every HTTP server the app runs (the API, the metrics
	// listener, the embedded emulator's own), made by newServer.
	servers []*http.Server

	// Live is the core; API the HTTP layer it is served through, with Hub
	// its WebSocket hub.
	Live *live.Service
	API  *ivshttp.Server
	Hub  *ivshttp.Hub
	// IVS is the IVS client; Emulator the embedded emulator (nil on AWS or
	// with IVS_ENDPOINT).
	IVS      *ivs.Client
	Emulator *emulator.Emulator
	// History is the stage and history store; Presence the presence store.
	History  History
	Presence ivslive.PresenceStore
	// Webhooks is the webhook service (nil without targets); Consumer the
	// IVS event consumer (nil when no queue is configured).
	Webhooks *webhook.Service
	Consumer *sqs.Consumer

	scaler *live.Scaler
	// participants is where the leader reads IVS's participants.
	participants ivslive.ParticipantSource
	metrics      *metrics.Metrics
	// tokens is the token strategy's state, for /api/health.
	tokens tokenState
	// ivsEndpoint is the IVS endpoint in use: "" for AWS, else the
	// emulator's (embedded or IVS_ENDPOINT).
	ivsEndpoint string
	// eventsCheck reports the IVS event consumer in /api/health.
	eventsCheck ivshttp.HealthCheck
	workers     []func(ctx context.Context)
	closers     []func() error
}

func (a *App) onClose(f func() error) { a.closers = append(a.closers, f) }

// now is the app's clock.
func (a *App) now() time.Time {
	if a.opts.Now != nil {
		return a.opts.Now()
	}
	return time.Now()
}

// NewServer returns an HTTP server with the limits every listener needs,
// so an idle or slow client cannot hold a connection forever; the caller
// adds ReadTimeout and WriteTimeout where no long request or stream goes
// through.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// newServer is NewServer for one of the app's listeners.
func (a *App) newServer(h http.Handler) *http.Server {
	srv := NewServer(h, a.log)
	a.servers = append(a.servers, srv)
	return srv
}

// Close closes everything New opened, in reverse. Run calls it; call it
// only for an App that never ran.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

// NewLogger is the log of a configuration: JSON in production, text
// otherwise, at LOG_LEVEL.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) // validated already
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Production() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// base is an App with its configuration, log and output, and nothing open:
// the start of New, and of the tools that need one part (migrate, keygen).
func base(cfg Config, o Options) *App {
	a := &App{cfg: cfg, opts: o, stdout: o.Stdout, log: o.Log}
	if a.stdout == nil {
		a.stdout = io.Discard
	}
	if a.log == nil {
		stderr := o.Stderr
		if stderr == nil {
			stderr = io.Discard
		}
		a.log = NewLogger(cfg, stderr)
	}
	return a
}

// New opens every part in dependency order. The listener comes first: in
// embedded mode the emulator's stage endpoints carry the public port. On
// error everything opened is closed again.
func New(ctx context.Context, cfg Config, o Options) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// a is not the named result: "return nil, err" must not hide it from
	// the cleanup below.
	a := base(cfg, o)
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create IVSLIVE_DATA_DIR: %w", err)
	}
	a.listener, err = net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen on API_PORT %d: %w", cfg.Port, err)
	}
	a.onClose(func() error { a.listener.Close(); return nil })
	if cfg.DebugAddr != "" {
		// Second, so the start itself (a restore of every live session)
		// can be profiled.
		if err := a.serveDebug(cfg.DebugAddr); err != nil {
			return nil, err
		}
	}
	m := a.openMetrics()
	hist, err := a.openHistory(ctx)
	if err != nil {
		return nil, err
	}
	pres, err := a.openPresence(ctx, hist.sink)
	if err != nil {
		return nil, err
	}
	iv, err := a.openIVS(ctx, a.sharedPace(pres))
	if err != nil {
		return nil, err
	}
	core, err := a.openCore(ctx, hist, pres, iv)
	if err != nil {
		return nil, err
	}
	m.waiting = core.waiting
	if err := a.openAPI(ctx, hist, pres, iv, core); err != nil {
		return nil, err
	}
	a.log.Info("ivslive starting",
		"ivs", cfg.Backend(), "presence", cfg.PresenceMode(), "history", cfg.HistoryMode(), "tokens", cfg.TokenMode(),
		"listen", a.listener.Addr().String(), "masterStage", a.Live.MasterARN(), "dataDir", cfg.DataDir,
		"redis", redactIf(cfg.PresenceMode() == "redis", cfg.RedisAddress()),
		"postgres", redactIf(cfg.HistoryMode() == "postgres", cfg.PostgresAddress()),
		"environment", orDefault(cfg.NodeEnv, "unset"))
	return a, nil
}

// URL is where the API is served, for clients on this host.
func (a *App) URL() string { return "http://" + DisplayAddr(a.listener.Addr()) }

// Run serves until ctx is done, then shuts down in order: stop accepting,
// drain in-flight requests, stop the workers, close the stores.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.runWorkers(workCtx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(ivshttp.Listener(a.listener)) }()
	fmt.Fprintf(a.stdout, "ivslive listening on %s\n", a.URL())

	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		a.log.Info("shutting down")
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.srv.Shutdown(shutCtx); err != nil {
		a.log.Warn("requests still running at the shutdown deadline", "err", err)
	}
	stopWork()
	<-done
	a.finalCheckpoint()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

func (a *App) runWorkers(ctx context.Context) {
	done := make(chan struct{}, len(a.workers))
	for _, w := range a.workers {
		go func() {
			defer func() { done <- struct{}{} }()
			w(ctx)
		}()
	}
	for range a.workers {
		<-done
	}
}

// apiKey returns API_SECRET_KEY, or the key generated into the data dir on
// the first start (printed once, never logged), so a fresh server is never
// open.
func (a *App) apiKey() (string, error) {
	if a.cfg.APISecretKey != "" {
		if len(a.cfg.APISecretKey) < minKeyLength {
			// Validate refuses it in production.
			a.log.Warn("API_SECRET_KEY is shorter than 16 characters; use a long random key (refused with NODE_ENV=production)")
		}
		return a.cfg.APISecretKey, nil
	}
	path := filepath.Join(a.cfg.DataDir, "api-key")
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		a.log.Info("using the generated API key", "file", path)
		return string(trimNewline(b)), nil
	}
	key := "ivs_" + randomHex(24)
	if err := writeSecretFile(path, []byte(key+"\n")); err != nil {
		return "", fmt.Errorf("store the generated API key: %w", err)
	}
	fmt.Fprintf(a.stdout, "No API_SECRET_KEY set: generated one and stored it in %s.\nAPI key (send it as x-api-key): %s\n", path, key)
	return key, nil
}

// DisplayAddr is addr as a client on this host reaches it.
func DisplayAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return "localhost:" + strconv.Itoa(tcp.Port)
	}
	return addr.String()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func redactIf(on bool, raw string) string {
	if !on {
		return "off"
	}
	return redactDSN(raw)
}

// serveMetrics serves /metrics without a key on its own address, for a
// scraper inside a private network.
func (a *App) serveMetrics(addr string) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	bound, err := a.serveSide("METRICS_ADDR", addr, mux, 10*time.Second, nil)
	if err == nil {
		a.log.Info("metrics without a key", "addr", bound.String())
	}
	return err
}

// serveSide serves mux on a listener of its own at addr (env names the
// setting in errors), closed with the App. check, when set, vets the
// bound address before anything is served.
func (a *App) serveSide(env, addr string, mux http.Handler, write time.Duration, check func(net.Addr) error) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", env, addr, err)
	}
	if check != nil {
		if err := check(ln.Addr()); err != nil {
			ln.Close()
			return nil, fmt.Errorf("%s %s: %w", env, addr, err)
		}
	}
	srv := a.newServer(mux)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, write
	go srv.Serve(ln)
	a.onClose(srv.Close)
	return ln.Addr(), nil
}
