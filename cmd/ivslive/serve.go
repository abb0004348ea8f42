package main

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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ivslive/ivslive"
	apidoc "github.com/ivslive/ivslive/api"
	"github.com/ivslive/ivslive/dashboard"
	"github.com/ivslive/ivslive/demo"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/metrics"
)

func serve(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := newFlags("serve", "Serve the API. Configuration comes from environment variables and ./.env (see .env.example).", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(lookup)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, stdout, stderr)
	if err != nil {
		return err
	}
	return a.run(ctx)
}

// app is one running server and everything it opened, closed in reverse.
type app struct {
	cfg      Config
	log      *slog.Logger
	stdout   io.Writer
	listener net.Listener
	srv      *http.Server
	// servers are every HTTP server the app runs (the API, the metrics
	// listener, the embedded emulator's own), made by newServer.
	servers []*http.Server
	live    *live.Service
	scaler  *live.Scaler
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

func (a *app) onClose(f func() error) { a.closers = append(a.closers, f) }

// newServer returns an HTTP server with the limits every listener needs,
// so an idle or slow client cannot hold a connection forever; the caller
// adds ReadTimeout and WriteTimeout where no long request or stream goes
// through.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// newServer is newServer for one of the app's listeners.
func (a *app) newServer(h http.Handler) *http.Server {
	srv := newServer(h, a.log)
	a.servers = append(a.servers, srv)
	return srv
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) // validated already
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Production() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// newApp opens every part in dependency order. The listener comes first: in
// embedded mode the emulator's stage endpoints carry the public port.
func newApp(ctx context.Context, cfg Config, stdout, stderr io.Writer) (_ *app, err error) {
	// a is not the named result: "return nil, err" must not hide it from
	// the cleanup below.
	a := &app{cfg: cfg, stdout: stdout, log: newLogger(cfg, stderr)}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create IVSLIVE_DATA_DIR: %w", err)
	}
	skipAuth := cfg.SkipAuth && cfg.Development()
	switch {
	case skipAuth:
		a.log.Warn("!!! SKIP_AUTH=true: the API accepts requests WITHOUT an API key (development only) !!!")
	case cfg.SkipAuth:
		a.log.Warn("SKIP_AUTH=true is ignored because NODE_ENV is not development")
	}
	a.listener, err = net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen on API_PORT %d: %w", cfg.Port, err)
	}
	a.onClose(func() error { a.listener.Close(); return nil })

	// Metrics first: every part reports to them. The state gauges read the
	// service lazily, at scrape time.
	reg := prometheus.NewRegistry()
	var waiting queue
	a.metrics = metrics.New(reg, func(ctx context.Context) (live.Stats, error) { return a.live.Stats(ctx) },
		func(ctx context.Context) (int64, error) {
			if waiting == nil {
				return 0, nil
			}
			return waiting.Backlog(ctx)
		})

	stages, sink, spool, historyCheck, err := a.openHistory(ctx)
	if err != nil {
		return nil, err
	}
	pres, err := a.openPresence(ctx, sink)
	if err != nil {
		return nil, err
	}
	ivsClient, emu, ivsCheck, err := a.openIVS(ctx, a.sharedPace(pres))
	if err != nil {
		return nil, err
	}
	a.participants = a.participantSource(ivsClient, emu)
	identity, err := ivsClient.Identity(ctx)
	if err != nil {
		return nil, fmt.Errorf("identify the IVS (%s): %w", ivsDescription(cfg), err)
	}
	apiKey, err := a.apiKey()
	if err != nil {
		return nil, err
	}
	keys, err := parseAPIKeys(apiKey, cfg.APIKeys)
	if err != nil {
		return nil, err
	}
	sessions, err := a.openSessions(ctx, pres.secret)
	if err != nil {
		return nil, err
	}
	trust, _ := ivshttp.ParseTrustProxy(cfg.TrustProxy) // validated with the config

	a.live = live.New(live.Config{
		MasterStageARN:      cfg.MasterStageARN,
		StageNamePrefix:     cfg.StageNamePrefix,
		Environment:         orDefault(cfg.NodeEnv, "development"),
		MaxStages:           cfg.MaxStages,
		Capacity:            cfg.MaxViewersPerStage,
		Threshold:           cfg.ScaleUpThreshold,
		PublisherTokenTTL:   cfg.PublisherTokenTTL,
		PublisherGrace:      cfg.PublisherGrace,
		MaxSubscriptions:    cfg.MaxSubscriptions,
		ViewerTokenTTL:      cfg.ViewerTokenTTL,
		MediaServerTokenTTL: cfg.MediaTokenTTL,
		AutoScale:           cfg.AutoScaleEnabled,
		ScaleDownThreshold:  cfg.ScaleDownThreshold,
		WarmUp:              cfg.ScaleWarmUp,
		DrainTimeout:        cfg.DrainTimeout,
		MaxReplicas:         maxReplicas,
		AttendanceInterval:  cfg.PresenceInterval,
		QuietAfter:          cfg.ViewerTimeout * 2 / 3,
		IVSIdentity:         identity,
		StoreLocal:          cfg.HistoryMode() == "sqlite",
	}, ivsClient, nil, stages, pres.store, a.log)
	a.live.History = stages
	a.live.Observer = a.metrics
	waiting = pres.queue
	if spool != nil {
		waiting = spool
	}
	bus := live.NewBus()
	a.live.Events = bus
	if pres.events != nil {
		a.live.Events = pres.events(bus)
	}
	hooks, hooksOn, err := a.openWebhooks(ctx, pres.webhooks)
	if err != nil {
		return nil, err
	}
	if hooksOn {
		a.live.Webhooks = hooks
	}
	hub := ivshttp.NewHub(a.live, bus, a.log)
	hub.OnClients = a.metrics.SetWebSocketClients
	a.workers = append(a.workers, hub.Run)
	leader := a.newLeader(pres.leases)
	a.live.Leader = leader
	if pres.playback != nil {
		// Before Bootstrap, whose restore puts the playback audience back
		// in its store; the channel and its key come after.
		a.live.Playback = &live.Playback{Presence: pres.playback}
	}
	bootCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := a.live.Bootstrap(bootCtx); err != nil {
		return nil, bootstrapError(cfg, err)
	}
	// After Bootstrap: in embedded mode the key's ARN is a setting of the
	// stage store, written only once the store is known to be this IVS's.
	if a.live.Tokens, err = a.openTokens(ctx, ivsClient, stages); err != nil {
		return nil, err
	}
	if pres.playback != nil {
		if a.live.Playback, err = a.openPlayback(ctx, ivsClient, pres.playback); err != nil {
			return nil, err
		}
	}
	a.startJobs(leader)
	if err := a.startIVSEvents(ctx, pres.eventLog); err != nil {
		return nil, err
	}
	if err := a.startCloudWatch(ctx, leader, bus); err != nil {
		return nil, err
	}

	doc, err := apidoc.JSON()
	if err != nil {
		return nil, err
	}
	api := &ivshttp.Server{
		OpenAPI:   doc,
		Docs:      apidoc.DocsHandler(),
		Dashboard: dashboard.Handler(),
		Live:      a.live,
		Log:       a.log,
		Config: ivshttp.Config{
			Development: cfg.Development(), Environment: cfg.NodeEnv, Version: versionString(),
			Keys: keys, WSPublic: cfg.WSPublic, WSLimits: ivshttp.WSLimits{Total: cfg.WSMaxConns, PerKey: cfg.WSMaxPerKey, PerAddress: cfg.WSMaxPerAddr}, SkipAuth: skipAuth, InternalSecret: cfg.InternalSecret,
			CORSOrigins: cfg.CORSOrigins, MaxBodyBytes: cfg.MaxBodyBytes, Region: cfg.AWSRegion,
			IVSBackend: cfg.Backend(), TrustProxy: trust,
			RateLimit:        ivslive.RateLimit{Requests: cfg.RateMax, Period: cfg.RateWindow},
			HeartbeatLimit:   ivslive.RateLimit{Requests: cfg.RateHeartbeat, Period: cfg.RateWindow},
			AuthFailureLimit: ivslive.RateLimit{Requests: cfg.AuthFailMax, Period: cfg.AuthFailWindow},
			EmulatorControl:  ivshttp.EmulatorControl(cfg.EmulatorControl),
		},
		Hub:      hub,
		Sessions: sessions,
		Limiter:  pres.limiter,
		// The heartbeat budget is checked per instance, never in Redis:
		// see ivshttp.Server.HeartbeatLimiter.
		HeartbeatLimiter: memory.NewRateLimiter(nil),
		OnRateLimit:      a.metrics.RateLimited,
		OnLimiterError:   a.metrics.LimiterError,
		Metrics:          a.metrics.Handler(),
		Observe: func(r *http.Request, status int, d time.Duration) {
			a.metrics.ObserveRequest(r.Pattern, r.Method, status, d)
		},
		Webhooks: hooks,
		Health:   []ivshttp.HealthCheck{ivsCheck, pres.check, withBacklog(historyCheck, waiting, cfg.HistoryMaxLag, time.Now), a.scalerCheck(), a.tokensCheck(), a.eventsCheck},
		Emulator: emu,
	}
	if cfg.Backend() == "emulator" {
		api.Demo = demo.Handler() // the demo pages stream through the emulator
	}
	a.srv = a.newServer(api.Handler())
	a.srv.ReadTimeout, a.srv.WriteTimeout = 30*time.Second, 30*time.Second
	if cfg.MetricsAddr != "" {
		if err := a.serveMetrics(cfg.MetricsAddr); err != nil {
			return nil, err
		}
	}
	setMemoryLimit(cfg, a.log)
	a.log.Info("ivslive starting",
		"ivs", cfg.Backend(), "presence", cfg.PresenceMode(), "history", cfg.HistoryMode(), "tokens", cfg.TokenMode(),
		"listen", a.listener.Addr().String(), "masterStage", a.live.MasterARN(), "dataDir", cfg.DataDir,
		"redis", redactIf(cfg.PresenceMode() == "redis", cfg.RedisAddress()),
		"postgres", redactIf(cfg.HistoryMode() == "postgres", cfg.PostgresAddress()),
		"environment", orDefault(cfg.NodeEnv, "unset"))
	return a, nil
}

// run serves until ctx is done, then shuts down in order: stop accepting,
// drain in-flight requests, stop the workers, close the stores.
func (a *app) run(ctx context.Context) error {
	defer a.close()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.runWorkers(workCtx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(ivshttp.Listener(a.listener)) }()
	fmt.Fprintf(a.stdout, "ivslive listening on http://%s\n", displayAddr(a.listener.Addr()))

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

func (a *app) runWorkers(ctx context.Context) {
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
func (a *app) apiKey() (string, error) {
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

func displayAddr(addr net.Addr) string {
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
func (a *app) serveMetrics(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	srv := a.newServer(mux)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(ln)
	a.onClose(srv.Close)
	a.log.Info("metrics without a key", "addr", ln.Addr().String())
	return nil
}
