package app

import (
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/sqs"
	"github.com/ivslive/ivslive/webhook"
)

// Config is every setting ivslive reads, by the Node server's variable names
// where it had one. Each field's tags drive loading, validation messages,
// `ivslive config check` and the documentation test:
//
//	env      the variable name
//	default  the value when unset
//	help     one line for docs and --help
//	secret   "true": never printed or logged
//	unit     for durations: what a bare number means ("s" or "ms")
//	group    the section it belongs to in docs
type Config struct {
	Port         int      `env:"API_PORT" default:"3000" group:"server" help:"Port the API listens on (0 picks a free port)."`
	Host         string   `env:"API_HOST" default:"" group:"server" help:"Address to bind; empty binds every interface."`
	NodeEnv      string   `env:"NODE_ENV" default:"" group:"server" help:"development shows error details and allows SKIP_AUTH; production logs JSON."`
	LogLevel     string   `env:"LOG_LEVEL" default:"info" group:"server" help:"debug, info, warn or error."`
	DataDir      string   `env:"IVSLIVE_DATA_DIR" default:"./data" group:"server" help:"Where embedded mode keeps SQLite, the emulator state, the signing key, the generated API key and session-token secret (every file 0600)."`
	MaxBodyBytes int64    `env:"MAX_BODY_BYTES" default:"1048576" group:"server" help:"Largest request body accepted (413 above)."`
	CORSOrigins  []string `env:"CORS_ORIGINS" default:"http://localhost:3000" group:"server" help:"Comma-separated browser origins allowed to call the API; * allows any."`
	DebugAddr    string   `env:"DEBUG_ADDR" default:"" group:"server" help:"Serve Go's profiles (net/http/pprof) at /debug/pprof/ on this address, e.g. 127.0.0.1:6060 (port 0 picks one), for go tool pprof and ivslive loadtest --serve --profile; empty: off. Loopback only (127.0.0.0/8, ::1, localhost): profiles expose the server's internals."`

	APISecretKey   string        `env:"API_SECRET_KEY" secret:"true" group:"auth" help:"Admin API key sent as x-api-key. Unset: a random key is generated into the data dir and printed once."`
	APIKeys        string        `env:"API_KEYS" secret:"true" group:"auth" help:"More keys, comma-separated name:scope:secret (scope admin, read or viewer); two keys of one scope allow rotation without downtime."`
	WSPublic       bool          `env:"WS_PUBLIC" default:"false" group:"auth" help:"true lets anyone read the WebSocket's stats and stage channels without a key (never the events channel)."`
	WSMaxConns     int           `env:"WS_MAX_CONNECTIONS" default:"10000" group:"auth" help:"Most WebSocket connections one instance holds (503 above); 0 means no cap."`
	WSMaxPerKey    int           `env:"WS_MAX_PER_KEY" default:"1000" group:"auth" help:"Most WebSocket connections one API key holds on one instance (429 above); 0 means no cap."`
	WSMaxPerAddr   int           `env:"WS_MAX_PER_ADDRESS" default:"50" group:"auth" help:"Most WebSocket connections one client address (IPv6: one /64) holds on one instance (429 above); 0 means no cap."`
	SessionSecret  string        `env:"SESSION_TOKEN_SECRET" secret:"true" group:"auth" help:"Key (32+ characters) that signs viewer session tokens. Unset: a random key is generated once and shared, in Redis (every instance reads the same) or in the data dir."`
	TrustProxy     string        `env:"TRUST_PROXY" default:"" group:"auth" help:"Whose X-Forwarded-For to believe for client addresses: true (any), a hop count, or proxy addresses/CIDRs, comma-separated; empty trusts none."`
	RateWindow     time.Duration `env:"RATE_LIMIT_WINDOW_MS" default:"60000" unit:"ms" group:"auth" help:"Rate-limit window (milliseconds)."`
	RateMax        int           `env:"RATE_LIMIT_MAX_REQUESTS" default:"600" group:"auth" help:"Requests per window for each API key and each client address on /api routes (0 turns limiting off)."`
	RateHeartbeat  int           `env:"RATE_LIMIT_HEARTBEAT_MAX" default:"12000" group:"auth" help:"Heartbeats per window for each key, session and client address, counted by each instance (no Redis round trip): a separate budget so viewers are never throttled by busy admins."`
	AuthFailMax    int           `env:"AUTH_FAILURE_MAX" default:"20" group:"auth" help:"Failed API-key authentications a client address may make per AUTH_FAILURE_WINDOW on any surface (/api, /ws, /metrics, the emulator); past it the address gets 429 whatever key it sends, until the budget refills. Shared through Redis; 0 turns it off."`
	AuthFailWindow time.Duration `env:"AUTH_FAILURE_WINDOW" default:"600" unit:"s" group:"auth" help:"Window of AUTH_FAILURE_MAX (seconds)."`
	SkipAuth       bool          `env:"SKIP_AUTH" default:"false" group:"auth" help:"true disables the API key check, only together with NODE_ENV=development."`
	InternalSecret string        `env:"INTERNAL_SECRET" secret:"true" group:"auth" help:"Required x-internal-secret for /api/token/mediaserver; unset, that route refuses every request."`

	AWSRegion          string `env:"AWS_REGION" default:"us-east-1" group:"ivs" help:"AWS region of the IVS stages."`
	AWSAccessKeyID     string `env:"AWS_ACCESS_KEY_ID" secret:"true" group:"ivs" help:"AWS credentials; unset, the SDK's default chain (shared config, SSO, IAM role) is used."`
	AWSSecretAccessKey string `env:"AWS_SECRET_ACCESS_KEY" secret:"true" group:"ivs" help:"Static AWS credentials, with AWS_ACCESS_KEY_ID."`
	AWSSessionToken    string `env:"AWS_SESSION_TOKEN" secret:"true" group:"ivs" help:"Session token of temporary credentials (SSO, assume-role), with AWS_ACCESS_KEY_ID; read by the AWS SDK from the environment, by ivslive from ./.env."`
	AWSAccountID       string `env:"AWS_ACCOUNT_ID" default:"123456789012" group:"ivs" help:"Account id the emulator puts in ARNs (AWS mode reads it from the ARNs)."`
	IVSBackend         string `env:"IVS_BACKEND" default:"" group:"ivs" help:"emulator or aws; default aws when MASTER_STAGE_ARN is set, emulator otherwise."`
	EmulatorControl    string `env:"EMULATOR_CONTROL" default:"loopback" group:"ivs" help:"Who may use the embedded emulator's control plane at /ivs/ (create stages, mint tokens, import keys): loopback (requests straight from this host, never through a proxy or with TRUST_PROXY set), key (the admin key in x-api-key) or off. Its JWKS, /ivs/whip/ and /ivs/playback/ stay public (their tokens are the credentials)."`
	IVSEndpoint        string `env:"IVS_ENDPOINT" default:"" group:"ivs" help:"Override the IVS Real-Time endpoint URL (for example a standalone ivslive emulator)."`
	IVSPrivateKey      string `env:"IVS_PRIVATE_KEY" secret:"true" group:"ivs" help:"PEM ES384 (P-384) private key for self-signed tokens."`
	IVSPrivateKeyFile  string `env:"IVS_PRIVATE_KEY_FILE" default:"" group:"ivs" help:"File holding that PEM key (instead of IVS_PRIVATE_KEY)."`
	IVSPublicKeyARN    string `env:"IVS_PUBLIC_KEY_ARN" default:"" group:"ivs" help:"ARN of the imported public key (ivslive keygen --import prints it). With a private key: key-pair tokens; without: CreateParticipantToken."`
	MasterStageARN     string `env:"MASTER_STAGE_ARN" default:"" group:"ivs" help:"The publisher's stage. Unset: one is created on first start and remembered."`
	IVSEventsQueueURL  string `env:"IVS_EVENTS_QUEUE_URL" default:"" group:"ivs" help:"URL of the SQS queue that an EventBridge rule (source aws.ivs, IVS Stage Update) fills with IVS's events; every instance consumes it (deploy/ivs-events.yaml). Unset: the emulator's own queue in emulator mode; none in AWS mode (IVS's events are not followed)."`
	EmulatorMediaAddr  string `env:"EMULATOR_MEDIA_ADDR" default:"127.0.0.1:0" group:"ivs" help:"UDP IP:port of the emulator's WebRTC media (WHIP publish, playback): the IP is the one ICE candidate offered, so set a LAN address to publish from another machine; port 0 picks one."`

	StageNamePrefix    string        `env:"STAGE_NAME_PREFIX" default:"ivslive-" group:"stages" help:"Prefix of the names of stages ivslive creates."`
	MaxStages          int           `env:"MAX_STAGES" default:"20" group:"stages" help:"Most managed stages, manual and auto-scaled; concurrent creates on any instance never pass it."`
	MaxViewersPerStage int           `env:"MAX_VIEWERS_PER_STAGE" default:"10000" group:"stages" help:"Most viewers seated on one stage: IVS's subscribers-per-stage quota (10,000; set yours if AWS raised it). Replicated stages are the tier above one full stage."`
	ScaleUpThreshold   int           `env:"SCALE_UP_THRESHOLD" default:"0" group:"stages" help:"New viewers prefer stages below this; the scaler adds a stage when the pool is 80% of it. 0: 90% of MAX_VIEWERS_PER_STAGE."`
	MaxSubscriptions   int           `env:"MAX_CONCURRENT_SUBSCRIPTIONS" default:"20000" group:"stages" help:"The AWS account's quota of concurrent subscriptions in the region (20,000 by default; set yours if AWS raised it): no viewer is seated past it, and the answer says so."`
	PlaybackEnabled    bool          `env:"PLAYBACK_ENABLED" default:"false" group:"stages" help:"true sends viewers past the real-time seats to an IVS low-latency channel: the master stage's server-side composition (StartComposition) is broadcast there, and the viewer's answer says mode playback with the playbackUrl instead of STAGE_FULL. A request with mode realtime still gets STAGE_FULL."`
	PlaybackChannelARN string        `env:"PLAYBACK_CHANNEL_ARN" default:"" group:"stages" help:"The channel to adopt; unset: the channel tagged ManagedBy=ivslive, Audience=playback, or a new one."`
	PlaybackPrivate    bool          `env:"PLAYBACK_PRIVATE" default:"false" group:"stages" help:"A created channel is private: viewers get a playback token (ES384, IVS's playback-key format) appended to the playbackUrl."`
	PlaybackKeyFile    string        `env:"PLAYBACK_PRIVATE_KEY_FILE" default:"" group:"stages" help:"PEM P-384 private key that signs playback tokens; its public half is imported into IVS at start (ImportPlaybackKeyPair). Unset: one generated into DATA_DIR."`
	PlaybackWarmAt     int           `env:"PLAYBACK_WARM_VIEWERS" default:"0" group:"stages" help:"The composition starts when real-time viewers reach this, so the channel is live before the seats run out; 0 starts it with the first playback viewer (the first one waits for it)."`
	PlaybackTokenTTL   time.Duration `env:"PLAYBACK_TOKEN_DURATION" default:"14400" unit:"s" group:"stages" help:"Playback token lifetime (seconds)."`
	ScaleDownThreshold int           `env:"SCALE_DOWN_THRESHOLD" default:"5" group:"stages" help:"An auto-scaled stage at or below this many viewers after warm-up is drained and deleted."`
	AutoScaleEnabled   bool          `env:"AUTO_SCALE_ENABLED" default:"true" group:"stages" help:"false turns stage auto-scaling off."`
	ScaleInterval      time.Duration `env:"HEALTH_CHECK_INTERVAL" default:"30" unit:"s" group:"stages" help:"How often the scaler checks the pool (seconds); a join crossing the threshold also triggers a check."`
	ScaleWarmUp        time.Duration `env:"SCALE_WARMUP" default:"300" unit:"s" group:"stages" help:"A new auto-scaled stage is never scaled down before this age (seconds)."`
	DrainTimeout       time.Duration `env:"STAGE_DRAIN_TIMEOUT" default:"600" unit:"s" group:"stages" help:"A draining stage is deleted when empty, or after this long even with viewers (seconds)."`
	ViewerTimeout      time.Duration `env:"VIEWER_TIMEOUT" default:"60" unit:"s" group:"stages" help:"A viewer without a heartbeat for this long is removed (seconds); clients send one every 30 s."`
	PresenceInterval   time.Duration `env:"PRESENCE_RECONCILE_INTERVAL" default:"2" unit:"s" group:"stages" help:"How often the leader compares viewers with IVS's participants (seconds): a viewer IVS saw leave is closed as disconnected, and IVS's connected count is shown beside the heartbeat count. On AWS each round costs a GetStage and a ListParticipants per stage (5 TPS each); the embedded emulator also reports every join and leave at once."`
	PublisherTokenTTL  time.Duration `env:"PUBLISHER_TOKEN_DURATION" default:"14400" unit:"s" group:"tokens" help:"Publisher token lifetime (seconds, or a Go duration like 4h). IVS checks it only at join: once the host publishes, the broadcast lasts while it publishes."`
	PublisherGrace     time.Duration `env:"PUBLISHER_GRACE_PERIOD" default:"120" unit:"s" group:"tokens" help:"How long the broadcast stays live after IVS reports the host stopped publishing (seconds), so an encoder restart does not end it."`
	ViewerTokenTTL     time.Duration `env:"VIEWER_TOKEN_DURATION" default:"3600" unit:"s" group:"tokens" help:"Viewer token lifetime (seconds)."`
	MediaTokenTTL      time.Duration `env:"MEDIASERVER_TOKEN_DURATION" default:"14400" unit:"s" group:"tokens" help:"Media-server token lifetime (seconds)."`

	SnapshotInterval      time.Duration `env:"SNAPSHOT_INTERVAL" default:"300" unit:"s" group:"history" help:"How often the viewer count of every stage is recorded and live sessions are checkpointed (seconds)."`
	SnapshotRetentionDays int           `env:"SNAPSHOT_RETENTION_DAYS" default:"90" group:"history" help:"Snapshots older than this many days are deleted daily; 0 keeps them forever."`
	SessionRetentionDays  int           `env:"SESSION_RETENTION_DAYS" default:"0" group:"history" help:"Viewing records older than this many days are deleted daily; 0 (the default) keeps them forever."`
	HistoryMaxLag         time.Duration `env:"HISTORY_MAX_LAG" default:"60" unit:"s" group:"history" help:"/api/health reports history degraded when a closed session has waited longer than this for the history store (Redis stream or local spool; seconds)."`

	CloudWatchEnabled   string        `env:"CLOUDWATCH_ENABLED" default:"" group:"metrics" help:"true sends TotalViewers, ActiveStages, StageViewers, TokensIssued and ApiErrors to CloudWatch every METRICS_INTERVAL (leader only); default on with NODE_ENV=production and AWS IVS, off otherwise."`
	CloudWatchNamespace string        `env:"CLOUDWATCH_NAMESPACE" default:"IVS/Production" group:"metrics" help:"CloudWatch namespace of those metrics."`
	CloudWatchEndpoint  string        `env:"CLOUDWATCH_ENDPOINT" default:"" group:"metrics" help:"Override the CloudWatch endpoint URL (tests, LocalStack)."`
	MetricsAddr         string        `env:"METRICS_ADDR" default:"" group:"metrics" help:"Also serve /metrics without a key on this address (e.g. 127.0.0.1:9090), for a scraper in a private network."`
	MetricsInterval     time.Duration `env:"METRICS_INTERVAL" default:"60" unit:"s" group:"metrics" help:"How often CloudWatch metrics are sent (seconds)."`

	WebhookURLs         []string      `env:"WEBHOOK_URLS" default:"" group:"webhooks" help:"Comma-separated URLs that receive every event (signed, queued durably, retried), named after their host in metrics and admin routes."`
	WebhookSecret       string        `env:"WEBHOOK_SECRET" secret:"true" group:"webhooks" help:"Signing secret(s) of WEBHOOK_URLS, whsec_ and 24–64 random bytes in base64; comma-separated to rotate (every one signs)."`
	WebhookTargets      string        `env:"WEBHOOK_TARGETS" secret:"true" group:"webhooks" help:"Named targets, each with its own secrets and event filter: a JSON array [{name, url, secrets, events, timeout, maxConnections}] or the path of a file holding one (docs/WEBHOOKS.md)."`
	WebhookMaxAge       time.Duration `env:"WEBHOOK_MAX_AGE" default:"24h" unit:"s" group:"webhooks" help:"How long an undelivered event is retried (seconds, or a duration like 24h), with exponential backoff and jitter, before it is dropped."`
	WebhookTimeout      time.Duration `env:"WEBHOOK_TIMEOUT" default:"10" unit:"s" group:"webhooks" help:"Time limit of one delivery attempt (seconds), for targets that set none."`
	WebhookMaxConns     int           `env:"WEBHOOK_MAX_CONNECTIONS" default:"16" group:"webhooks" help:"Deliveries in flight to one target from one instance, for targets that set none."`
	WebhookAllowPrivate bool          `env:"WEBHOOK_ALLOW_PRIVATE" default:"false" group:"webhooks" help:"true lets targets be on loopback, private, link-local and other non-public addresses (checked at connect time, after DNS)."`

	RedisURL       string `env:"REDIS_URL" secret:"url" default:"" group:"redis" help:"redis:// or rediss:// URL. Setting it (or REDIS_HOST) selects Redis presence."`
	RedisHost      string `env:"REDIS_HOST" default:"" group:"redis" help:"Redis host, the Node server's way (with REDIS_PORT, REDIS_PASSWORD, REDIS_DB, REDIS_TLS_ENABLED)."`
	RedisPort      int    `env:"REDIS_PORT" default:"6379" group:"redis" help:"Redis port."`
	RedisPassword  string `env:"REDIS_PASSWORD" secret:"true" group:"redis" help:"Redis password."`
	RedisDB        int    `env:"REDIS_DB" default:"0" group:"redis" help:"Redis database number."`
	RedisTLS       bool   `env:"REDIS_TLS_ENABLED" default:"false" group:"redis" help:"true connects with TLS (ElastiCache in transit encryption)."`
	RedisKeyPrefix string `env:"REDIS_KEY_PREFIX" default:"ivs:prod:" group:"redis" help:"Prefix of every Redis key."`

	DatabaseURL string `env:"DATABASE_URL" secret:"url" default:"" group:"postgres" help:"PostgreSQL URL (or libpq keyword/value string). Setting it (or DB_HOST) selects PostgreSQL history instead of SQLite."`
	DBHost      string `env:"DB_HOST" default:"" group:"postgres" help:"PostgreSQL host, the Node server's way (with DB_PORT, DB_NAME, DB_USER, DB_PASSWORD, DB_SSL_ENABLED)."`
	DBPort      int    `env:"DB_PORT" default:"5432" group:"postgres" help:"PostgreSQL port."`
	DBName      string `env:"DB_NAME" default:"ivs_live" group:"postgres" help:"PostgreSQL database."`
	DBUser      string `env:"DB_USER" default:"postgres" group:"postgres" help:"PostgreSQL user."`
	DBPassword  string `env:"DB_PASSWORD" secret:"true" group:"postgres" help:"PostgreSQL password."`
	DBSSL       bool   `env:"DB_SSL_ENABLED" default:"false" group:"postgres" help:"true requires TLS to PostgreSQL."`
	DBPoolMax   int    `env:"DB_POOL_MAX" default:"20" group:"postgres" help:"Most pooled connections."`
	DBPoolMin   int    `env:"DB_POOL_MIN" default:"2" group:"postgres" help:"Connections kept open."`
	DBSchema    string `env:"DB_SCHEMA" default:"ivslive" group:"postgres" help:"Schema holding ivslive's tables, apart from the Node server's public ones."`

	DBStatementTimeout time.Duration `env:"DB_STATEMENT_TIMEOUT" default:"5" unit:"s" group:"postgres" help:"Longest a PostgreSQL query may run (seconds, or a duration like 500ms): the server cancels it, and a call gives up one second later, answering 503, even when the server stopped answering."`
}

// Development reports NODE_ENV=development.
func (c Config) Development() bool { return c.NodeEnv == "development" }

// Production reports NODE_ENV=production.
func (c Config) Production() bool { return c.NodeEnv == "production" }

// field is one configuration variable as reflection sees it.
type field struct {
	Env, Default, Help, Unit, Group string
	Secret                          string
	value                           reflect.Value
}

// fields lists the variables of c in declaration order.
func (c *Config) fields() []field {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	out := make([]field, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		out = append(out, field{
			Env: sf.Tag.Get("env"), Default: sf.Tag.Get("default"), Help: sf.Tag.Get("help"),
			Unit: sf.Tag.Get("unit"), Group: sf.Tag.Get("group"), Secret: sf.Tag.Get("secret"),
			value: v.Field(i),
		})
	}
	return out
}

// LoadConfig reads every variable: from lookup (the real environment) first,
// then from dotenv (an optional .env file's values), then the default.
func LoadConfig(lookup func(string) (string, bool), dotenv map[string]string) (Config, error) {
	var c Config
	for _, f := range c.fields() {
		raw, ok := lookup(f.Env)
		if !ok {
			raw, ok = dotenv[f.Env]
		}
		if !ok {
			raw = f.Default
		}
		if err := f.set(strings.TrimSpace(raw)); err != nil {
			return c, err
		}
	}
	if c.ScaleUpThreshold == 0 {
		c.ScaleUpThreshold = max(1, c.MaxViewersPerStage*9/10)
	}
	return c, c.Validate()
}

func (f field) set(raw string) error {
	switch p := f.value.Addr().Interface().(type) {
	case *string:
		*p = raw
	case *[]string:
		*p = nil
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*p = append(*p, s)
			}
		}
	case *bool:
		switch strings.ToLower(raw) {
		case "true", "1", "yes", "on":
			*p = true
		case "false", "0", "no", "off", "":
			*p = false
		default:
			return fmt.Errorf("%s=%q: want true or false", f.Env, raw)
		}
	case *int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%s=%q: want a whole number", f.Env, raw)
		}
		*p = n
	case *int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("%s=%q: want a whole number", f.Env, raw)
		}
		*p = n
	case *time.Duration:
		d, err := parseDuration(raw, f.Unit)
		if err != nil {
			return fmt.Errorf("%s=%q: want a number of %s or a duration like 90s or 5m", f.Env, raw, unitName(f.Unit))
		}
		*p = d
	default:
		return fmt.Errorf("%s: unsupported type %T", f.Env, p)
	}
	return nil
}

// parseDuration accepts a bare number in the variable's unit (the Node
// server's style) or a Go duration.
func parseDuration(raw, unit string) (time.Duration, error) {
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if unit == "ms" {
			return time.Duration(n) * time.Millisecond, nil
		}
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(raw)
}

func unitName(unit string) string {
	if unit == "ms" {
		return "milliseconds"
	}
	return "seconds"
}

// Validate checks values against their ranges and each other, naming the
// variable and what it expects.
func (c Config) Validate() error {
	checks := []struct {
		bad bool
		msg string
	}{
		{c.Port < 0 || c.Port > 65535, fmt.Sprintf("API_PORT=%d: want 0–65535", c.Port)},
		{!oneOf(c.LogLevel, "debug", "info", "warn", "error"), fmt.Sprintf("LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel)},
		{!oneOf(c.IVSBackend, "", "emulator", "aws"), fmt.Sprintf("IVS_BACKEND=%q: want emulator or aws", c.IVSBackend)},
		{!oneOf(c.EmulatorControl, "loopback", "key", "off"), fmt.Sprintf("EMULATOR_CONTROL=%q: want loopback, key or off", c.EmulatorControl)},
		{c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20, fmt.Sprintf("MAX_BODY_BYTES=%d: want 1024–67108864", c.MaxBodyBytes)},
		{c.MaxStages < 1 || c.MaxStages > 1000, fmt.Sprintf("MAX_STAGES=%d: want 1–1000 (IVS allows 1,000 stages per region by default)", c.MaxStages)},
		{c.MaxViewersPerStage < 1 || c.MaxViewersPerStage > 25000, fmt.Sprintf("MAX_VIEWERS_PER_STAGE=%d: want 1–25000 (IVS: 10,000 subscribers per stage by default)", c.MaxViewersPerStage)},
		{c.ScaleUpThreshold < 1 || c.ScaleUpThreshold > c.MaxViewersPerStage, fmt.Sprintf("SCALE_UP_THRESHOLD=%d: want 1–MAX_VIEWERS_PER_STAGE (%d)", c.ScaleUpThreshold, c.MaxViewersPerStage)},
		{c.ScaleDownThreshold < 0 || c.ScaleDownThreshold >= c.ScaleUpThreshold, fmt.Sprintf("SCALE_DOWN_THRESHOLD=%d: want 0 to below SCALE_UP_THRESHOLD (%d)", c.ScaleDownThreshold, c.ScaleUpThreshold)},
		{c.MaxSubscriptions < 1 || c.MaxSubscriptions > 10_000_000, fmt.Sprintf("MAX_CONCURRENT_SUBSCRIPTIONS=%d: want 1–10000000 (IVS: 20,000 per account and region by default)", c.MaxSubscriptions)},
		{c.PlaybackChannelARN != "" && !ivslive.ValidChannelARN(c.PlaybackChannelARN), fmt.Sprintf("PLAYBACK_CHANNEL_ARN=%q: not an IVS channel ARN", c.PlaybackChannelARN)},
		{c.PlaybackWarmAt < 0, fmt.Sprintf("PLAYBACK_WARM_VIEWERS=%d: want 0 or more", c.PlaybackWarmAt)},
		{c.PlaybackTokenTTL < time.Minute || c.PlaybackTokenTTL > 14*24*time.Hour, fmt.Sprintf("PLAYBACK_TOKEN_DURATION=%s: want 60 s to 14 days", c.PlaybackTokenTTL)},
		{c.PublisherGrace < 0 || c.PublisherGrace > time.Hour, fmt.Sprintf("PUBLISHER_GRACE_PERIOD=%s: want 0 to 1 h", c.PublisherGrace)},
		{!tokenTTL(c.PublisherTokenTTL), fmt.Sprintf("PUBLISHER_TOKEN_DURATION=%s: want 60 s to 14 days (IVS limit)", c.PublisherTokenTTL)},
		{!tokenTTL(c.ViewerTokenTTL), fmt.Sprintf("VIEWER_TOKEN_DURATION=%s: want 60 s to 14 days (IVS limit)", c.ViewerTokenTTL)},
		{!tokenTTL(c.MediaTokenTTL), fmt.Sprintf("MEDIASERVER_TOKEN_DURATION=%s: want 60 s to 14 days (IVS limit)", c.MediaTokenTTL)},
		{c.ScaleInterval < time.Second || c.ScaleInterval > time.Hour, fmt.Sprintf("HEALTH_CHECK_INTERVAL=%s: want 1 s to 1 h", c.ScaleInterval)},
		{c.PresenceInterval < time.Second || c.PresenceInterval > time.Hour, fmt.Sprintf("PRESENCE_RECONCILE_INTERVAL=%s: want 1 s to 1 h", c.PresenceInterval)},
		{c.ScaleWarmUp < 0 || c.ScaleWarmUp > 24*time.Hour, fmt.Sprintf("SCALE_WARMUP=%s: want 0 to 24 h", c.ScaleWarmUp)},
		{c.DrainTimeout < 0 || c.DrainTimeout > 24*time.Hour, fmt.Sprintf("STAGE_DRAIN_TIMEOUT=%s: want 0 to 24 h", c.DrainTimeout)},
		{c.ViewerTimeout < 5*time.Second || c.ViewerTimeout > time.Hour, fmt.Sprintf("VIEWER_TIMEOUT=%s: want 5 s to 1 h", c.ViewerTimeout)},
		{c.SnapshotInterval < time.Second || c.SnapshotInterval > 24*time.Hour, fmt.Sprintf("SNAPSHOT_INTERVAL=%s: want 1 s to 24 h", c.SnapshotInterval)},
		{c.SnapshotRetentionDays < 0 || c.SnapshotRetentionDays > 36500, fmt.Sprintf("SNAPSHOT_RETENTION_DAYS=%d: want 0–36500", c.SnapshotRetentionDays)},
		{c.SessionRetentionDays < 0 || c.SessionRetentionDays > 36500, fmt.Sprintf("SESSION_RETENTION_DAYS=%d: want 0–36500", c.SessionRetentionDays)},
		{c.HistoryMaxLag < time.Second || c.HistoryMaxLag > 24*time.Hour, fmt.Sprintf("HISTORY_MAX_LAG=%s: want 1 s to 24 h", c.HistoryMaxLag)},
		{c.DBStatementTimeout < 100*time.Millisecond || c.DBStatementTimeout > 10*time.Minute, fmt.Sprintf("DB_STATEMENT_TIMEOUT=%s: want 100 ms to 10 min", c.DBStatementTimeout)},
		{c.MetricsInterval < time.Second || c.MetricsInterval > time.Hour, fmt.Sprintf("METRICS_INTERVAL=%s: want 1 s to 1 h", c.MetricsInterval)},
		{c.RedisPort < 1 || c.RedisPort > 65535, fmt.Sprintf("REDIS_PORT=%d: want 1–65535", c.RedisPort)},
		{c.RedisDB < 0 || c.RedisDB > 15, fmt.Sprintf("REDIS_DB=%d: want 0–15", c.RedisDB)},
		{c.DBPort < 1 || c.DBPort > 65535, fmt.Sprintf("DB_PORT=%d: want 1–65535", c.DBPort)},
		{c.DBPoolMax < 1 || c.DBPoolMin < 0 || c.DBPoolMin > c.DBPoolMax, fmt.Sprintf("DB_POOL_MIN=%d, DB_POOL_MAX=%d: want 0 ≤ min ≤ max, max ≥ 1", c.DBPoolMin, c.DBPoolMax)},
		{c.RateWindow < time.Second || c.RateWindow > 24*time.Hour, fmt.Sprintf("RATE_LIMIT_WINDOW_MS=%d: want 1000 to 86400000", c.RateWindow.Milliseconds())},
		{c.RateMax < 0 || c.RateMax > 10_000_000, fmt.Sprintf("RATE_LIMIT_MAX_REQUESTS=%d: want 0 (off) to 10000000", c.RateMax)},
		{c.RateHeartbeat < 0 || c.RateHeartbeat > 10_000_000, fmt.Sprintf("RATE_LIMIT_HEARTBEAT_MAX=%d: want 0 (off) to 10000000", c.RateHeartbeat)},
		{c.WSMaxConns < 0 || c.WSMaxPerKey < 0 || c.WSMaxPerAddr < 0, "WS_MAX_CONNECTIONS, WS_MAX_PER_KEY, WS_MAX_PER_ADDRESS: want 0 (no cap) or more"},
		{c.AuthFailMax < 0 || c.AuthFailMax > 100_000, fmt.Sprintf("AUTH_FAILURE_MAX=%d: want 0 (off) to 100000", c.AuthFailMax)},
		{c.AuthFailWindow < time.Second || c.AuthFailWindow > 24*time.Hour, fmt.Sprintf("AUTH_FAILURE_WINDOW=%s: want 1 s to 24 h", c.AuthFailWindow)},
		{c.SessionSecret != "" && len(c.SessionSecret) < 32, "SESSION_TOKEN_SECRET: want at least 32 characters"},
		{c.Production() && c.APISecretKey != "" && len(c.APISecretKey) < minKeyLength, fmt.Sprintf("API_SECRET_KEY: want at least %d characters with NODE_ENV=production (a long random key)", minKeyLength)},
		{c.IVSPrivateKey != "" && c.IVSPrivateKeyFile != "", "IVS_PRIVATE_KEY and IVS_PRIVATE_KEY_FILE: set one, not both"},
		{c.DataDir == "", "IVSLIVE_DATA_DIR: want a directory path"},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("invalid configuration: %s", ch.msg)
		}
	}
	if !oneOf(c.CloudWatchEnabled, "", "true", "false") {
		return fmt.Errorf("invalid configuration: CLOUDWATCH_ENABLED=%q: want true or false", c.CloudWatchEnabled)
	}
	for name, raw := range map[string]string{"REDIS_URL": c.RedisURL, "DATABASE_URL": c.DatabaseURL, "IVS_ENDPOINT": c.IVSEndpoint, "CLOUDWATCH_ENDPOINT": c.CloudWatchEndpoint} {
		if raw == "" {
			continue
		}
		if name == "DATABASE_URL" && !strings.Contains(raw, "://") {
			// pgx also takes libpq's keyword/value form.
			if _, err := parseKeywordValue(raw); err != nil {
				return fmt.Errorf("invalid configuration: DATABASE_URL: want postgres://user:password@host:port/db or host=... user=... keyword/value pairs")
			}
			continue
		}
		if u, err := url.Parse(raw); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("invalid configuration: %s: want an absolute URL like scheme://host:port", name)
		}
	}
	if c.IVSEventsQueueURL != "" {
		if _, _, err := sqs.Endpoint(c.IVSEventsQueueURL); err != nil {
			return fmt.Errorf("invalid configuration: IVS_EVENTS_QUEUE_URL: %w", err)
		}
	}
	if c.WebhookMaxAge < time.Minute || c.WebhookMaxAge > 30*24*time.Hour {
		return fmt.Errorf("invalid configuration: WEBHOOK_MAX_AGE=%s: want 1 min to 30 days", c.WebhookMaxAge)
	}
	if c.WebhookTimeout < 100*time.Millisecond || c.WebhookTimeout > 5*time.Minute {
		return fmt.Errorf("invalid configuration: WEBHOOK_TIMEOUT=%s: want 100 ms to 5 min", c.WebhookTimeout)
	}
	if c.WebhookMaxConns < 1 || c.WebhookMaxConns > 1000 {
		return fmt.Errorf("invalid configuration: WEBHOOK_MAX_CONNECTIONS=%d: want 1–1000", c.WebhookMaxConns)
	}
	if _, err := c.Webhooks(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	if _, err := ivshttp.ParseTrustProxy(c.TrustProxy); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	if err := ValidMediaAddr(c.EmulatorMediaAddr); err != nil {
		return fmt.Errorf("invalid configuration: EMULATOR_MEDIA_ADDR=%q: %w", c.EmulatorMediaAddr, err)
	}
	if c.DebugAddr != "" {
		if err := loopbackAddr(c.DebugAddr); err != nil {
			return fmt.Errorf("invalid configuration: DEBUG_ADDR=%q: %w", c.DebugAddr, err)
		}
	}
	if c.MasterStageARN != "" && !ivslive.ValidStageARN(c.MasterStageARN) {
		return fmt.Errorf("invalid configuration: MASTER_STAGE_ARN=%q: want arn:aws:ivs:<region>:<account>:stage/<id>", c.MasterStageARN)
	}
	if c.StageNamePrefix != "" && !ivslive.ValidStageName(c.StageNamePrefix+"master") {
		return fmt.Errorf("invalid configuration: STAGE_NAME_PREFIX=%q: want letters, digits, - and _ only", c.StageNamePrefix)
	}
	return nil
}

// Webhooks returns the webhook targets WEBHOOK_URLS and WEBHOOK_TARGETS
// describe (none when both are unset).
func (c Config) Webhooks() ([]webhook.Target, error) {
	return webhook.ParseTargets(webhook.TargetConfig{URLs: c.WebhookURLs, Secrets: c.WebhookSecret, Targets: c.WebhookTargets,
		Timeout: c.WebhookTimeout, MaxConns: c.WebhookMaxConns, AllowPrivate: c.WebhookAllowPrivate})
}

// ValidMediaAddr accepts IP:port with a specific IP: the emulator offers
// that IP as its only ICE candidate, so 0.0.0.0 or a host name would give
// clients nothing to connect to.
func ValidMediaAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want IP:port, like 127.0.0.1:0 or 192.168.1.20:50000")
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return fmt.Errorf("want the IP clients reach (not a name, not 0.0.0.0 or ::)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("want a port 0–65535")
	}
	return nil
}

func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func tokenTTL(d time.Duration) bool { return d >= time.Minute && d <= 14*24*time.Hour }
