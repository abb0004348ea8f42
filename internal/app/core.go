package app

import (
	"context"
	"fmt"
	"net/http"
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
	"github.com/ivslive/ivslive/token"
)

// The session signer is what the HTTP layer asks for.
var _ ivshttp.SessionTokens = (*token.Sessions)(nil)

// backlog is the queue the metrics report as waiting for the history
// store, known only once the core is open.
type backlog struct{ waiting queue }

// openMetrics makes the metrics first: every part reports to them. The
// state gauges read the core lazily, at scrape time.
func (a *App) openMetrics() *backlog {
	b := &backlog{}
	a.metrics = metrics.New(prometheus.NewRegistry(), func(ctx context.Context) (live.Stats, error) { return a.Live.Stats(ctx) },
		func(ctx context.Context) (int64, error) {
			if b.waiting == nil {
				return 0, nil
			}
			return b.waiting.Backlog(ctx)
		})
	return b
}

// core is what openCore hands the HTTP layer besides the App's fields.
type core struct {
	bus *live.Bus
	// waiting is where closed sessions wait for the history store (Redis
	// stream or local spool); nil when they are written directly.
	waiting queue
}

// openCore builds the core on the stores and IVS, bootstraps it (master
// stage, signing key, playback) and adds its workers: the hub's events,
// the leader's jobs, the IVS event consumer and CloudWatch.
func (a *App) openCore(ctx context.Context, hist historyParts, pres presence, iv ivsParts) (core, error) {
	cfg := a.cfg
	a.participants = a.participantSource(iv.client, iv.emulator)
	identity, err := iv.client.Identity(ctx)
	if err != nil {
		return core{}, fmt.Errorf("identify the IVS (%s): %w", ivsDescription(cfg), err)
	}
	lc := live.Config{
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
		MaxReplicas:         MaxReplicas,
		AttendanceInterval:  cfg.PresenceInterval,
		QuietAfter:          cfg.ViewerTimeout * 2 / 3,
		IVSIdentity:         identity,
		StoreLocal:          cfg.HistoryMode() == "sqlite",
	}
	if a.opts.Live != nil {
		a.opts.Live(&lc)
	}
	a.Live = live.New(lc, iv.client, nil, hist.db, pres.store, a.log)
	if a.opts.Now != nil {
		a.Live.Now = a.opts.Now
	}
	a.Live.History = hist.db
	a.Live.Observer = a.metrics
	c := core{bus: live.NewBus(), waiting: pres.queue}
	if hist.spool != nil {
		c.waiting = hist.spool
	}
	a.Live.Events = c.bus
	switch {
	case a.opts.Events != nil:
		a.Live.Events = a.opts.Events(c.bus)
	case pres.events != nil:
		a.Live.Events = pres.events(c.bus)
	}
	if a.Webhooks, err = a.openWebhooks(ctx, pres.webhooks); err != nil {
		return core{}, err
	}
	if a.Webhooks != nil {
		a.Live.Webhooks = a.Webhooks
	}
	var leader *live.Leader
	if !a.opts.NoJobs {
		leader = a.newLeader(pres.leases)
		a.Live.Leader = leader
	}
	if pres.playback != nil {
		// Before Bootstrap, whose restore puts the playback audience back
		// in its store; the channel and its key come after.
		a.Live.Playback = &live.Playback{Presence: pres.playback}
	}
	bootCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := a.Live.Bootstrap(bootCtx); err != nil {
		return core{}, bootstrapError(cfg, err)
	}
	// After Bootstrap: in embedded mode the key's ARN is a setting of the
	// stage store, written only once the store is known to be this IVS's.
	if a.Live.Tokens, err = a.openTokens(ctx, iv.client, hist.db); err != nil {
		return core{}, err
	}
	if pres.playback != nil {
		if a.Live.Playback, err = a.openPlayback(ctx, iv.client, pres.playback); err != nil {
			return core{}, err
		}
	}
	if leader != nil {
		a.startJobs(leader)
	}
	if err := a.startIVSEvents(ctx, pres.eventLog); err != nil {
		return core{}, err
	}
	if leader != nil {
		if err := a.startCloudWatch(ctx, leader, c.bus); err != nil {
			return core{}, err
		}
	}
	return c, nil
}

// openAPI builds the HTTP layer over the core, with its keys, session
// tokens, rate limiters and health checks, and the servers that serve it.
func (a *App) openAPI(ctx context.Context, hist historyParts, pres presence, iv ivsParts, c core) error {
	cfg := a.cfg
	skipAuth := cfg.SkipAuth && cfg.Development()
	switch {
	case skipAuth:
		a.log.Warn("!!! SKIP_AUTH=true: the API accepts requests WITHOUT an API key (development only) !!!")
	case cfg.SkipAuth:
		a.log.Warn("SKIP_AUTH=true is ignored because NODE_ENV is not development")
	}
	apiKey, err := a.apiKey()
	if err != nil {
		return err
	}
	keys, err := parseAPIKeys(apiKey, cfg.APIKeys)
	if err != nil {
		return err
	}
	sessions, err := a.openSessions(ctx, pres.secret)
	if err != nil {
		return err
	}
	trust, _ := ivshttp.ParseTrustProxy(cfg.TrustProxy) // validated with the config
	doc, err := apidoc.JSON()
	if err != nil {
		return err
	}
	a.Hub = ivshttp.NewHub(a.Live, c.bus, a.log)
	a.Hub.OnClients = a.metrics.SetWebSocketClients
	a.workers = append(a.workers, a.Hub.Run)
	hc := ivshttp.Config{
		Development: cfg.Development(), Environment: cfg.NodeEnv, Version: Version(),
		Keys: keys, WSPublic: cfg.WSPublic, WSLimits: ivshttp.WSLimits{Total: cfg.WSMaxConns, PerKey: cfg.WSMaxPerKey, PerAddress: cfg.WSMaxPerAddr}, SkipAuth: skipAuth, InternalSecret: cfg.InternalSecret,
		CORSOrigins: cfg.CORSOrigins, MaxBodyBytes: cfg.MaxBodyBytes, Region: cfg.AWSRegion,
		IVSBackend: cfg.Backend(), TrustProxy: trust,
		RateLimit:        ivslive.RateLimit{Requests: cfg.RateMax, Period: cfg.RateWindow},
		HeartbeatLimit:   ivslive.RateLimit{Requests: cfg.RateHeartbeat, Period: cfg.RateWindow},
		AuthFailureLimit: ivslive.RateLimit{Requests: cfg.AuthFailMax, Period: cfg.AuthFailWindow},
		EmulatorControl:  ivshttp.EmulatorControl(cfg.EmulatorControl),
	}
	if a.opts.HTTP != nil {
		a.opts.HTTP(&hc)
	}
	a.API = &ivshttp.Server{
		OpenAPI:   doc,
		Docs:      apidoc.DocsHandler(),
		Dashboard: dashboard.Handler(),
		Live:      a.Live,
		Log:       a.log,
		Now:       a.opts.Now,
		Config:    hc,
		Hub:       a.Hub,
		Sessions:  sessions,
		Limiter:   pres.limiter,
		// The heartbeat budget is checked per instance, never in Redis:
		// see ivshttp.Server.HeartbeatLimiter.
		HeartbeatLimiter: memory.NewRateLimiter(a.opts.Now),
		OnRateLimit:      a.metrics.RateLimited,
		OnLimiterError:   a.metrics.LimiterError,
		Metrics:          a.metrics.Handler(),
		Observe: func(r *http.Request, status int, d time.Duration) {
			a.metrics.ObserveRequest(r.Pattern, r.Method, status, d)
		},
		Webhooks: a.Webhooks,
		Health:   []ivshttp.HealthCheck{iv.check, pres.check, withBacklog(hist.check, c.waiting, cfg.HistoryMaxLag, a.now), a.scalerCheck(), a.tokensCheck(), a.eventsCheck},
	}
	if iv.emulator != nil {
		a.API.Emulator = iv.emulator
	}
	if a.opts.Limiter != nil {
		a.API.Limiter = a.opts.Limiter
	}
	if a.opts.HeartbeatLimiter != nil {
		a.API.HeartbeatLimiter = a.opts.HeartbeatLimiter
	}
	if cfg.Backend() == "emulator" {
		a.API.Demo = demo.Handler() // the demo pages stream through the emulator
	}
	a.srv = a.newServer(a.API.Handler())
	a.srv.ReadTimeout, a.srv.WriteTimeout = 30*time.Second, 30*time.Second
	if cfg.MetricsAddr != "" {
		return a.serveMetrics(cfg.MetricsAddr)
	}
	return nil
}
