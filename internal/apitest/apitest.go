// Package apitest starts the whole API in-process for tests: the real HTTP
// handler, core, SQLite store and token signer, and the real aws-sdk-go-v2
// client talking to the IVS emulator over loopback. The presence store and the
// clock are the test's to choose.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ivslive/ivslive"
	apidoc "github.com/ivslive/ivslive/api"
	"github.com/ivslive/ivslive/dashboard"
	"github.com/ivslive/ivslive/demo"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/contract"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/live"
	"github.com/ivslive/ivslive/memory"
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

// New starts a server for the test; it stops at cleanup.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	now := time.Now
	if o.Clock != nil {
		now = o.Clock.Now
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("IVSLIVE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.Log != nil {
		log = o.Log
	}

	eo := o.Emulator
	eo.Logger = log
	if eo.Now == nil && o.Clock != nil {
		// One clock: IVS's event times and the service's must agree, or an
		// event dated by the wall clock outlives every fake-clock deadline.
		eo.Now = now
	}
	em, err := emulator.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	emSrv := httptest.NewServer(em)
	t.Cleanup(emSrv.Close)
	client, err := ivs.New(ctx, ivs.Options{Endpoint: emSrv.URL, Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		Quotas: map[string]float64{"CreateStage": 1000, "DeleteStage": 1000, "GetStage": 1000, "ListStages": 1000,
			"UpdateStage": 1000, "StartParticipantReplication": 1000, "StopParticipantReplication": 1000,
			"ListParticipants": 1000, "ListParticipantReplicas": 1000}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var store Stores
	if o.Stores != nil {
		store = o.Stores(t)
	} else {
		db, err := sqlite.Open(ctx, ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.Now = now
		store = db
	}

	sink := &contract.Sink{Next: store}
	var presence ivslive.PresenceStore
	var flush func(context.Context) error
	if o.Presence != nil {
		presence, flush = o.Presence(t, sink, now)
	} else {
		presence = memory.NewPresence(sink, now, log)
	}

	key, err := token.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := token.EncodePublicKey(&key.PublicKey)
	pk, err := client.ImportPublicKey(ctx, "test", string(pem), nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(key, pk.ARN, now)
	if err != nil {
		t.Fatal(err)
	}

	identity, err := client.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := live.Config{StageNamePrefix: "test-", Environment: "test", MaxStages: 20, Capacity: 50, Threshold: 45,
		PublisherTokenTTL: 4 * time.Hour, ViewerTokenTTL: time.Hour, MediaServerTokenTTL: 4 * time.Hour,
		AutoScale: false, ScaleDownThreshold: 5, WarmUp: 5 * time.Minute, DrainTimeout: 10 * time.Minute, MaxReplicas: 5,
		PublisherGrace: time.Minute, MaxSubscriptions: 20000,
		IVSIdentity: identity}
	if o.Live != nil {
		o.Live(&cfg)
	}
	svc := live.New(cfg, client, signer, store, presence, log)
	svc.Now = now
	svc.History = store
	if o.Playback != nil {
		svc.Playback = newPlayback(ctx, t, client, sink, now, log)
		o.Playback(svc.Playback)
	}
	// The history twins report dead letters to the core, as in serve.
	if n, ok := store.(interface {
		NotifyDeadLetters(func([]ivslive.DeadLetter))
	}); ok {
		n.NotifyDeadLetters(svc.DeadLettered)
	}
	bus := live.NewBus()
	svc.Events = bus
	if o.Events != nil {
		svc.Events = o.Events(t, bus)
	}
	var hooks *webhook.Service
	if o.Webhooks != nil {
		hooks = startWebhooks(t, o, now, log)
		svc.Webhooks = hooks
	}
	hub := ivshttp.NewHub(svc, bus, log)
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(hubCtx) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	if err := svc.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	hc := ivshttp.Config{Development: true, Environment: "test", Version: "test", Keys: []ivshttp.APIKey{{Name: "admin", Scope: ivshttp.ScopeAdmin, Secret: Key},
		{Name: "reader", Scope: ivshttp.ScopeRead, Secret: ReadKey}, {Name: "frontend", Scope: ivshttp.ScopeViewer, Secret: ViewerKey}},
		InternalSecret: "internal-secret", CORSOrigins: []string{"http://localhost:3000"}, MaxBodyBytes: 1 << 20, IVSBackend: "emulator"}
	if o.HTTP != nil {
		o.HTTP(&hc)
	}
	sessions, err := token.NewSessions(token.NewSessionSecret(), now)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := apidoc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	api := &ivshttp.Server{Live: svc, Config: hc, Log: log, Now: now, Emulator: em, Hub: hub, Sessions: sessions, Limiter: o.Limiter, HeartbeatLimiter: o.HeartbeatLimiter,
		OpenAPI: doc, Docs: apidoc.DocsHandler(), Dashboard: dashboard.Handler(), Webhooks: hooks, Demo: demo.Handler(),
		Health: []ivshttp.HealthCheck{{Name: "presence", Mode: "memory", Critical: true,
			Probe: func(ctx context.Context) (map[string]any, error) { return nil, presence.Ping(ctx) }}}}
	consumer := startIVSEvents(t, o, emSrv.URL, svc, now, log)
	srv := httptest.NewUnstartedServer(api.Handler())
	srv.Listener = ivshttp.Listener(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	return &Env{URL: srv.URL, Server: api, Live: svc, Emulator: em, IVS: client, Store: store,
		Presence: presence, Sink: sink, Signer: signer, HTTP: srv.Client(), flush: flush, Hub: hub, Webhooks: hooks, Consumer: consumer}
}

// startIVSEvents consumes the emulator's event queue (at endpoint) into the
// core until the test ends, with the SQS client serve makes.
func startIVSEvents(t testing.TB, o Options, endpoint string, svc *live.Service, now func() time.Time, log *slog.Logger) *sqs.Consumer {
	account := o.Emulator.AccountID
	if account == "" {
		account = "123456789012"
	}
	queueURL := endpoint + "/sqs/" + account + "/" + emulator.EventQueueName
	client, err := sqs.NewClient(context.Background(), sqs.Options{QueueURL: queueURL, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if err != nil {
		t.Fatal(err)
	}
	events := o.IVSEventLog
	if events == nil {
		events = memory.NewEventLog(now)
	}
	c := &sqs.Consumer{Client: client, QueueURL: queueURL, Handler: svc, Events: events, Log: log.With("part", "ivs-events")}
	if o.IVSEvents != nil {
		o.IVSEvents(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// startWebhooks runs the webhook service until the test ends.
func startWebhooks(t testing.TB, o Options, now func() time.Time, log *slog.Logger) *webhook.Service {
	var store webhook.Store
	if o.WebhookStore != nil {
		store = o.WebhookStore(t)
	} else {
		db, err := sqlite.Open(context.Background(), ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if store, err = sqlite.NewWebhooks(context.Background(), db, webhook.DefaultArchiveSize, webhook.DefaultLogSize); err != nil {
			t.Fatal(err)
		}
	}
	hooks := webhook.New(store, *o.Webhooks, now, log, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hooks.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return hooks
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

// newPlayback builds the playback side as serve does in embedded mode.
func newPlayback(ctx context.Context, t testing.TB, client *ivs.Client, sink ivslive.SessionSink, now func() time.Time, log *slog.Logger) *live.Playback {
	key, err := token.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := token.EncodePublicKey(&key.PublicKey)
	if _, err := client.ImportPlaybackKeyPair(ctx, "test-playback", string(pem), nil); err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewPlaybackSigner(key, now)
	if err != nil {
		t.Fatal(err)
	}
	return &live.Playback{Broadcast: client, Presence: memory.NewPresence(sink, now, log), Tokens: signer, TokenTTL: time.Hour}
}
