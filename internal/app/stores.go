package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/postgres"
	"github.com/ivslive/ivslive/redis"
	"github.com/ivslive/ivslive/sqlite"
	"github.com/ivslive/ivslive/webhook"
)

// History is what the history twins (sqlite, postgres) offer the rest of
// the program.
type History interface {
	ivslive.StageStore
	ivslive.HistoryStore
	Migrated() []string
	NotifyDeadLetters(f func([]ivslive.DeadLetter))
	Close() error
}

// queue is where closed sessions wait for the history store: the Redis
// stream (redis.Recorder) or the local spool (sqlite.Spool).
type queue interface {
	// Backlog counts the records waiting.
	Backlog(ctx context.Context) (int64, error)
	// Oldest is when the oldest record waiting was queued (zero: none).
	Oldest(ctx context.Context) (time.Time, error)
}

// historyParts is what openHistory opens.
type historyParts struct {
	db History
	// sink is where the presence store hands closed sessions: the database
	// itself, or the spool in front of it.
	sink ivslive.SessionSink
	// spool is the local spool when there is one (PostgreSQL without
	// Redis), which is also where closed sessions wait.
	spool *sqlite.Spool
	check ivshttp.HealthCheck
}

// openHistory opens PostgreSQL when configured, else SQLite in the data dir.
// The sink it returns is where the presence store hands closed sessions: the
// database itself, or, for PostgreSQL without Redis, a spool on local disk
// that forwards to it, so a PostgreSQL outage never refuses a leave.
// Records the database refuses are dead-lettered and reported to the core
// (a.deadLettered).
func (a *App) openHistory(ctx context.Context) (historyParts, error) {
	p := historyParts{check: ivshttp.HealthCheck{Name: "history", Mode: a.cfg.HistoryMode()}}
	var err error
	switch {
	case a.opts.History != nil:
		if p.db, err = a.opts.History(ctx); err != nil {
			return p, err
		}
	case a.cfg.HistoryMode() == "postgres":
		db, err := postgres.Open(ctx, postgres.Options{
			URL: a.cfg.PostgresAddress(), Schema: a.cfg.DBSchema,
			MaxConns: int32(a.cfg.DBPoolMax), MinConns: int32(a.cfg.DBPoolMin),
			StatementTimeout: a.cfg.DBStatementTimeout,
		})
		if err != nil {
			return p, fmt.Errorf("open PostgreSQL (%s): %w", redactDSN(a.cfg.PostgresAddress()), err)
		}
		if a.opts.Now != nil {
			db.Now = a.opts.Now
		}
		p.db = db
		a.onClose(db.Close)
	default:
		path := filepath.Join(a.cfg.DataDir, "ivslive.db")
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return p, fmt.Errorf("open SQLite %s: %w", path, err)
		}
		if a.opts.Now != nil {
			db.Now = a.opts.Now
		}
		p.db = db
		a.onClose(db.Close)
		// The embedded store is on local disk: if it fails nothing works.
		p.check.Critical = true
	}
	db := p.db
	p.sink = db
	a.History = db
	db.NotifyDeadLetters(a.deadLettered)
	if m := db.Migrated(); len(m) > 0 {
		a.log.Info("database migrated", "history", a.cfg.HistoryMode(), "applied", m)
	}
	p.check.Probe = func(ctx context.Context) (map[string]any, error) { return nil, db.Ping(ctx) }
	if a.opts.History == nil && a.cfg.HistoryMode() == "postgres" && a.cfg.PresenceMode() == "memory" {
		path := filepath.Join(a.cfg.DataDir, "spool.db")
		local, err := sqlite.Open(ctx, path)
		if err != nil {
			return p, fmt.Errorf("open the session spool %s: %w", path, err)
		}
		a.onClose(local.Close)
		p.spool = sqlite.NewSpool(local, a.log)
		a.workers = append(a.workers, func(ctx context.Context) { p.spool.Run(ctx, db, time.Second) })
		p.sink = p.spool
	}
	if a.opts.Sink != nil {
		p.sink = a.opts.Sink(p.sink)
	}
	return p, nil
}

// deadLettered hands the records the history store refused to the core,
// which counts and publishes them. The store is opened before the core, so
// it is looked up at call time; records are only written once it exists.
func (a *App) deadLettered(letters []ivslive.DeadLetter) {
	if a.Live != nil {
		a.Live.DeadLettered(letters)
	}
}

// presence is what the presence twins offer the rest of the program.
type presence struct {
	store   ivslive.PresenceStore
	leases  ivslive.LeaseStore
	limiter ivslive.RateLimiter
	check   ivshttp.HealthCheck
	// queue holds closed sessions not yet in the history store (Redis
	// mode: the stream); nil when records are written directly.
	queue queue
	// events publishes to every instance's bus (Redis pub/sub), or nil to
	// publish to the local bus directly.
	events func(bus *live.Bus) ivslive.EventPublisher
	// webhooks is the webhook queue shared by the instances (Redis mode),
	// or nil for a local one.
	webhooks webhook.Store
	// secret is where the instances share the session-token secret (Redis
	// mode); nil keeps it in the data dir.
	secret *redis.Secret
	// eventLog remembers the IVS events applied, shared by the instances
	// in Redis mode.
	eventLog ivslive.EventLog
	// playback holds the channel's viewers (PLAYBACK_ENABLED), a second
	// store of the same twin; nil when playback is off.
	playback ivslive.PresenceStore
}

// openPresence opens Redis when configured, else the in-memory store. In
// Redis mode closed sessions travel through a Redis stream, and a Recorder
// on every instance moves them to the history store.
func (a *App) openPresence(ctx context.Context, sink ivslive.SessionSink) (presence, error) {
	if a.cfg.PresenceMode() == "memory" {
		now := a.opts.Now
		var p ivslive.PresenceStore = memory.NewPresence(sink, now, a.log)
		if a.opts.Presence != nil {
			var err error
			if p, err = a.opts.Presence(sink); err != nil {
				return presence{}, err
			}
		}
		a.Presence = p
		var playback ivslive.PresenceStore
		if a.cfg.PlaybackEnabled {
			playback = memory.NewPresence(sink, now, a.log)
		}
		return presence{store: p, playback: playback, leases: memory.NewLeases(now), limiter: memory.NewRateLimiter(now), eventLog: memory.NewEventLog(now), check: ivshttp.HealthCheck{
			Name: "presence", Mode: "memory", Critical: true,
			Probe: func(ctx context.Context) (map[string]any, error) { return nil, p.Ping(ctx) }}}, nil
	}
	opts, err := goredis.ParseURL(a.cfg.RedisAddress())
	if err != nil {
		return presence{}, fmt.Errorf("REDIS_URL: %w", err)
	}
	// Fail fast rather than hang when Redis is away: requests answer 503.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = 2*time.Second, 2*time.Second, 2*time.Second, 3*time.Second
	opts.MaxRetries = 1
	// A caller's deadline reaches the socket: a request that gave up does
	// not keep a connection waiting for Redis.
	opts.ContextTimeoutEnabled = true
	client := goredis.NewClient(opts)
	a.onClose(client.Close)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		return presence{}, fmt.Errorf("connect to Redis (%s): %w", redactDSN(a.cfg.RedisAddress()), err)
	}
	prefix := a.cfg.RedisKeyPrefix
	// One batcher for presence and rate limits: concurrent requests share
	// round trips to Redis. One pipeline in flight per two cores: fewer
	// pipelines make fuller ones (measured on 2 cores: 1 beats 2).
	batcher := redis.NewBatcher(client, max(1, runtime.GOMAXPROCS(0)/2))
	a.onClose(batcher.Close)
	p := redis.NewPresence(client, prefix, redis.WithBatcher(batcher))
	a.Presence = p
	a.migrateLayout(p, prefix)
	rec := a.recordSessions(client, prefix, sink)
	var playback ivslive.PresenceStore
	if a.cfg.PlaybackEnabled {
		// Its own keys and closed-sessions stream, recorded to the same
		// history.
		pb := redis.NewPresence(client, prefix+"playback:", redis.WithBatcher(batcher))
		a.migrateLayout(pb, prefix+"playback:")
		playback = pb
		a.recordSessions(client, prefix+"playback:", sink)
	}
	events := func(bus *live.Bus) ivslive.EventPublisher {
		relay := redis.NewEvents(client, prefix, bus.Deliver, a.log)
		a.workers = append(a.workers, relay.Run)
		return relay
	}
	return presence{store: p, playback: playback, leases: redis.NewLeases(client, prefix), limiter: redis.NewRateLimiter(client, prefix, redis.WithBatcher(batcher)), queue: rec, events: events,
		webhooks: redis.NewWebhooks(client, prefix, webhook.DefaultArchiveSize, webhook.DefaultLogSize),
		secret:   redis.NewSecret(client, prefix, "session"),
		eventLog: redis.NewEventLog(client, prefix),
		check: ivshttp.HealthCheck{Name: "presence", Mode: "redis", Critical: true,
			Probe: func(ctx context.Context) (map[string]any, error) { return nil, p.Ping(ctx) }}}, nil
}

// instanceID names this process among the instances sharing Redis.
func instanceID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(3))
}

// migrateLayout converts, in the background, the live sessions an older
// version wrote in Redis (see redis.Presence.MigrateLayout). Serving need
// not wait: until it is done each session is converted on first touch.
func (a *App) migrateLayout(p *redis.Presence, prefix string) {
	a.workers = append(a.workers, func(ctx context.Context) {
		n, err := p.MigrateLayout(ctx, instanceID())
		if err != nil {
			a.log.Warn("could not convert live sessions to the packed layout; each converts on first touch", "err", err, "prefix", prefix)
			return
		}
		if n > 0 {
			a.log.Info("converted live sessions to the packed layout", "sessions", n, "prefix", prefix)
		}
	})
}

// recordSessions runs a Recorder that moves prefix's closed sessions from
// their Redis stream to the history store.
func (a *App) recordSessions(client goredis.UniversalClient, prefix string, sink ivslive.SessionSink) *redis.Recorder {
	rec := redis.NewRecorder(client, prefix, sink, instanceID(), a.log)
	a.workers = append(a.workers, func(ctx context.Context) {
		if err := rec.Run(ctx); err != nil {
			a.log.Error("session recorder stopped", "err", err, "prefix", prefix)
		}
	})
	return rec
}
