// Package apitest starts the whole API in-process for tests, through
// app.New, the constructor `ivslive serve` uses: the real HTTP handler,
// core, token signer and embedded IVS emulator (reached by the real
// aws-sdk-go-v2 client over loopback, as in embedded mode), with a SQLite
// history in memory. The presence store, the clock and the other
// substitutions of Options are the test's to choose; they reach the
// application as explicit fields of app.Options.
package apitest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/app"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/sqlite"
	"github.com/ivslive/ivslive/sqs"
	"github.com/ivslive/ivslive/token"
	"github.com/ivslive/ivslive/webhook"
)

// The API keys of every test server, one per scope.
const (
	Key       = "test-admin-key-0123456789"
	ReadKey   = "test-read-key-0123456789"
	ViewerKey = "test-viewer-key-0123456789"
)

// Clock is a settable clock for tests (testenv.Clock, under the name the
// tests have always used).
type Clock = testenv.Clock

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return testenv.NewClock(t) }

// Stores is what the history twins offer.
type Stores interface {
	ivslive.StageStore
	ivslive.HistoryStore
}

// Options tune a test server.
type Options struct {
	// Presence builds the presence store given the sink, and returns a
	// function that delivers whatever is queued for the sink (nil when the
	// store writes to the sink directly); default memory.
	Presence func(t testing.TB, sink ivslive.SessionSink, now func() time.Time) (ivslive.PresenceStore, func(context.Context) error)
	// Stores is the stage and history store; default a fresh SQLite
	// database.
	Stores func(t testing.TB) Stores
	// Live overrides parts of the core configuration.
	Live func(c *live.Config)
	// Playback, when set, turns on the audience past real-time seats: a
	// channel through the same SDK client, a memory presence store for
	// playback viewers and a playback key imported into the emulator; the
	// function tunes it.
	Playback func(p *live.Playback)
	// HTTP overrides parts of the HTTP configuration.
	HTTP func(c *ivshttp.Config)
	// Clock drives the core and presence; default the real time.
	Clock *Clock
	// Emulator options (quotas, timeouts).
	Emulator emulator.Options
	// Limiter, when set, rate-limits the API with the budgets in HTTP;
	// HeartbeatLimiter, when set, spends the heartbeat budget instead.
	Limiter, HeartbeatLimiter ivslive.RateLimiter
	// Log, when set, receives the server's log; default discarded (or
	// stderr with IVSLIVE_TEST_LOG set).
	Log *slog.Logger
	// Events, when set, builds the event publisher that feeds the bus
	// (Redis pub/sub between instances); default the bus itself.
	Events func(t testing.TB, bus *live.Bus) ivslive.EventPublisher
	// IVSEvents, when set, tunes the consumer of the emulator's event queue
	// (every server runs one, applying events to the core, as serve does);
	// IVSEventLog replaces its event log (default memory).
	IVSEvents   func(c *sqs.Consumer)
	IVSEventLog ivslive.EventLog
	// Webhooks, when set, runs the webhook service with this configuration
	// on WebhookStore (default a SQLite queue in memory), on the clock.
	Webhooks     *webhook.Config
	WebhookStore func(t testing.TB) webhook.Store
}

// Env is a running test server.
type Env struct {
	// App is the application the test runs, as serve would.
	App      *app.App
	URL      string
	Server   *ivshttp.Server
	Live     *live.Service
	Emulator *emulator.Emulator
	IVS      *ivs.Client
	Store    Stores
	Presence ivslive.PresenceStore
	Sink     *contract.Sink
	flush    func(context.Context) error
	Signer   *token.Signer
	Hub      *ivshttp.Hub
	HTTP     *http.Client
	// Webhooks is the webhook service when Options.Webhooks is set.
	Webhooks *webhook.Service
	// Consumer applies the emulator's IVS events to Live.
	Consumer *sqs.Consumer
}

// New starts a server for the test through app.New, the constructor serve
// uses, with a configuration for tests (Config) and the test's
// substitutions; it stops at cleanup.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("IVSLIVE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.Log != nil {
		log = o.Log
	}
	env := &Env{}
	a, err := app.New(context.Background(), Config(t, o), appOptions(t, o, env, log))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the server stopped: %v", err)
		}
		tr.CloseIdleConnections()
	})
	signer, _ := a.Live.Tokens.(*token.Signer)
	env.App, env.URL, env.Server, env.Live, env.Emulator, env.IVS = a, a.URL(), a.API, a.Live, a.Emulator, a.IVS
	env.Store, env.Presence, env.Signer, env.Hub, env.Webhooks, env.Consumer = a.History, a.Presence, signer, a.Hub, a.Webhooks, a.Consumer
	env.HTTP = &http.Client{Transport: tr}
	return env
}

// Config is the configuration of every test server: what serve reads from
// the environment, with small pools, the test keys, no rate limits or
// connection caps (tests that want them set them through Options.HTTP or
// Options.Limiter), on a free loopback port and a data dir of the test's.
func Config(t testing.TB, o Options) app.Config {
	t.Helper()
	cfg, err := app.LoadConfig(func(string) (string, bool) { return "", false }, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host, cfg.Port, cfg.DataDir, cfg.NodeEnv = "127.0.0.1", 0, t.TempDir(), "test"
	cfg.APISecretKey = Key
	cfg.APIKeys = "reader:read:" + ReadKey + ",frontend:viewer:" + ViewerKey
	cfg.InternalSecret = "internal-secret"
	cfg.StageNamePrefix = "test-"
	cfg.MaxStages, cfg.MaxViewersPerStage, cfg.ScaleUpThreshold, cfg.ScaleDownThreshold = 20, 50, 45, 5
	cfg.AutoScaleEnabled, cfg.ScaleWarmUp, cfg.DrainTimeout = false, 5*time.Minute, 10*time.Minute
	cfg.PublisherTokenTTL, cfg.ViewerTokenTTL, cfg.MediaTokenTTL, cfg.PublisherGrace = 4*time.Hour, time.Hour, 4*time.Hour, time.Minute
	cfg.RateMax, cfg.RateHeartbeat, cfg.AuthFailMax = 0, 0, 0
	cfg.WSMaxConns, cfg.WSMaxPerKey, cfg.WSMaxPerAddr = 0, 0, 0
	cfg.PlaybackEnabled, cfg.PlaybackTokenTTL = o.Playback != nil, time.Hour
	if o.Emulator.AccountID != "" {
		cfg.AWSAccountID = o.Emulator.AccountID
	}
	return cfg
}

// appOptions turns the test's Options into app.Options, filling env's
// Sink and flush as the server is built.
func appOptions(t testing.TB, o Options, env *Env, log *slog.Logger) app.Options {
	var now func() time.Time
	if o.Clock != nil {
		now = o.Clock.Now
	}
	ao := app.Options{Log: log, Now: now, NoJobs: true, Live: o.Live, Playback: o.Playback, IVSEvents: o.IVSEvents, EventLog: o.IVSEventLog,
		Webhooks: o.Webhooks, Limiter: o.Limiter, HeartbeatLimiter: o.HeartbeatLimiter}
	ao.History = func(ctx context.Context) (app.History, error) { return history(t, o, now) }
	ao.Sink = func(next ivslive.SessionSink) ivslive.SessionSink {
		env.Sink = &contract.Sink{Next: next}
		return env.Sink
	}
	if o.Presence != nil {
		ao.Presence = func(sink ivslive.SessionSink) (ivslive.PresenceStore, error) {
			clock := now
			if clock == nil {
				clock = time.Now
			}
			store, flush := o.Presence(t, sink, clock)
			env.flush = flush
			return store, nil
		}
	}
	ao.Emulator = func(eo *emulator.Options) {
		// The test's options, with serve's where it leaves them empty;
		// the state stays in memory unless the test names a file.
		want := o.Emulator
		want.Logger = eo.Logger
		want.BaseURL = cmp.Or(want.BaseURL, eo.BaseURL)
		want.Region, want.AccountID = cmp.Or(want.Region, eo.Region), cmp.Or(want.AccountID, eo.AccountID)
		want.MediaAddr = cmp.Or(want.MediaAddr, eo.MediaAddr)
		if want.Now == nil {
			want.Now = eo.Now
		}
		*eo = want
	}
	ao.IVS = func(opts *ivs.Options) {
		// Tests make calls faster than IVS's quotas allow.
		opts.Quotas = map[string]float64{"CreateStage": 1000, "DeleteStage": 1000, "GetStage": 1000, "ListStages": 1000,
			"UpdateStage": 1000, "StartParticipantReplication": 1000, "StopParticipantReplication": 1000,
			"ListParticipants": 1000, "ListParticipantReplicas": 1000}
	}
	ao.HTTP = func(c *ivshttp.Config) {
		// Error details shown, as in development.
		c.Development, c.Environment, c.Version = true, "test", "test"
		if o.HTTP != nil {
			o.HTTP(c)
		}
	}
	if o.Events != nil {
		ao.Events = func(bus *live.Bus) ivslive.EventPublisher { return o.Events(t, bus) }
	}
	if o.Webhooks != nil {
		ao.WebhookStore = webhookStore(t, o)
	}
	return ao
}

// history is the test's stage and history store: Options.Stores, or a
// fresh SQLite database in memory on the test's clock.
func history(t testing.TB, o Options, now func() time.Time) (app.History, error) {
	if o.Stores != nil {
		h, ok := o.Stores(t).(app.History)
		if !ok {
			return nil, fmt.Errorf("apitest: Options.Stores returned %T, which is not an app.History", h)
		}
		return h, nil
	}
	db, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { db.Close() })
	if now != nil {
		db.Now = now
	}
	return db, nil
}

// webhookStore is Options.WebhookStore, or a SQLite queue in memory.
func webhookStore(t testing.TB, o Options) webhook.Store {
	if o.WebhookStore != nil {
		return o.WebhookStore(t)
	}
	db, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := sqlite.NewWebhooks(context.Background(), db, webhook.DefaultArchiveSize, webhook.DefaultLogSize)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// Recorded returns the closed sessions the sink has received, after
// delivering anything still queued.
func (e *Env) Recorded(t testing.TB) []ivslive.ClosedSession {
	t.Helper()
	if e.flush != nil {
		if err := e.flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return e.Sink.Sessions()
}

// Response is a decoded envelope.
type Response struct {
	Status    int
	Header    http.Header
	Success   bool            `json:"success"`
	Data      json.RawMessage `json:"data"`
	Message   string          `json:"message"`
	Timestamp string          `json:"timestamp"`
	Error     struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details"`
	} `json:"error"`
	Raw []byte
}

// Decode unmarshals the envelope's data into v, failing the test on error.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// Do sends a request with the admin key (unless headers say otherwise) and
// decodes the envelope. body may be nil, a string (sent as is) or a value
// (sent as JSON).
func (e *Env) Do(t testing.TB, method, path string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Api-Key", Key)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, r); err != nil {
			t.Fatalf("%s %s: status %d, body is not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	return r
}

// Must is Do that fails the test unless the status is want.
func (e *Env) Must(t testing.TB, want int, method, path string, body any, headers ...string) *Response {
	t.Helper()
	r := e.Do(t, method, path, body, headers...)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}
