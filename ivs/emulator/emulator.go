package emulator

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ivslive/ivslive/ivs/emulator/hls"
	"github.com/ivslive/ivslive/ivs/emulator/media"
)

// Options configures an Emulator. The zero value is usable: every empty field
// falls back to the default documented on it.
type Options struct {
	// Region is the AWS Region written into ARNs. Default "us-east-1".
	Region string
	// AccountID is the AWS account written into ARNs. Default "123456789012".
	AccountID string
	// BaseURL is the public URL where the emulator is reachable, for example
	// "http://localhost:3000/ivs". Stage endpoints and token claims are
	// derived from it. Default "http://localhost:3000/ivs".
	BaseURL string
	// StatePath is the JSON file the state is persisted to after every
	// mutation and loaded from by New. Empty keeps the state in memory only.
	// Only one Emulator at a time may use a given file.
	StatePath string
	// Quotas are the per-Region service quotas; zero fields use the AWS
	// defaults.
	Quotas Quotas
	// MediaAddr is the UDP address ("ip:port") every WHIP and subscribe
	// peer connection shares; its IP is the only ICE candidate offered, so
	// it must be an address the clients reach (a LAN address to publish
	// from another machine). Default "127.0.0.1:0" (loopback, any port).
	// The socket is bound at the first WHIP request.
	MediaAddr string
	// SessionEndDelay is how long a stage session outlives its last
	// participant. Default 3 minutes ("a few minutes" in IVS's words).
	SessionEndDelay time.Duration
	// ConnectionTimeout is how long a peer connection may take to connect,
	// or stay without ICE/DTLS, before its participant LEFT. Default 10 s.
	ConnectionTimeout time.Duration
	// SweepInterval is how often the expiry sweep (session ends, reconnect
	// windows, connection timeouts) runs against Now. Default 1 s; tests
	// with a fake clock call Sweep after moving it.
	SweepInterval time.Duration
	// Now is the clock for every timestamp, token iat/exp and expiry.
	// Default time.Now.
	Now func() time.Time
	// EventQueueSize bounds the event queue (the SQS queue the emulator's
	// EventBridge events go to): when it is full the oldest message is
	// dropped. Default 10,000.
	EventQueueSize int
	// Logger receives request and persistence logs. Default discards them.
	Logger *slog.Logger
}

// Quotas holds the service quotas the emulator enforces with
// ServiceQuotaExceededException (HTTP 402). A zero field means the AWS default.
type Quotas struct {
	// Stages is the number of stages per Region. Default 1000.
	Stages int
	// PublicKeys is the number of imported public keys per Region. Default 3.
	PublicKeys int
	// ReplicationsPerParticipant is the number of concurrent replications of
	// one participant across all stages. Default 5.
	ReplicationsPerParticipant int
	// PublishersPerStage is the number of participants publishing in one
	// stage at once, replicas included. Default 12 (not adjustable in AWS).
	PublishersPerStage int
	// SubscribersPerStage is the number of participants subscribed in one
	// stage at once. Default 10,000.
	SubscribersPerStage int
	// Compositions is the number of compositions per Region not yet
	// stopped. Default 20.
	Compositions int
	// CompositionsPerStage is the number of running compositions of one
	// stage. Default 5.
	CompositionsPerStage int
	// EncoderConfigurations per Region. Default 20.
	EncoderConfigurations int
	// Channels is the number of low-latency channels per Region. Default 5,000.
	Channels int
	// PlaybackKeyPairs per Region. Default 3.
	PlaybackKeyPairs int
}

// operation handles one decoded AWS operation and returns the value to encode
// as the JSON response body, or an error (an *apiError keeps its AWS type).
type operation func(r *http.Request) (any, error)

// Emulator is the IVS Real-Time control plane as an http.Handler. Create it
// with New; it is safe for concurrent use.
type Emulator struct {
	opts      Options
	base      *url.URL
	keyID     string
	log       *slog.Logger
	now       func() time.Time
	re        patterns
	ops       map[string]operation
	sqsOps    map[string]sqsOperation
	queue     *eventQueue          // the SQS queue EventBridge delivers events to
	llOps     map[string]operation // the low-latency ivs service (channel.go)
	statePath string

	mu         sync.Mutex
	state      *state
	signingKey *ecdsa.PrivateKey
	faults     map[string]*fault        // operation name -> pending injected error
	live       map[string]*stageLive    // stage ARN -> sessions and participants
	conns      map[string]*conn         // WHIP resource id -> peer connection
	sources    map[string]*media.Source // sourceKey(stage, participant) -> relay tracks
	// compositions are runtime state, as in IVS, where a composition is
	// ephemeral; playback holds each channel's live HLS by channel id.
	compositions map[string]*composition
	playback     map[string]*hls.Stream
	seq          int64 // order of runtime records (sessions, participants, events)
	sinks        map[*sink]struct{}
	watchers     map[chan struct{}]struct{} // WatchParticipants
	closing      []*media.Peer              // peers of connections ended under mu, closed once it is released
	closed       bool

	mediaMu     sync.Mutex // serializes starting the media engine
	engine      *media.Engine
	mediaDelays *media.Delays // set by benchmarks before the first WHIP request

	stopSweep chan struct{}
	wg        sync.WaitGroup // sweeper, sinks, and peers closing in the background
}

// fault is a pending injected error for one operation.
type fault struct {
	errorType string
	status    int
	remaining int
}

// New returns an Emulator configured by opts. When opts.StatePath names an
// existing state file, the stages, public keys, replications and signing key
// saved there are loaded; otherwise a new signing key is generated.
func New(opts Options) (*Emulator, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "http://localhost:3000/ivs"
	}
	if opts.Quotas.Stages <= 0 {
		opts.Quotas.Stages = 1000
	}
	if opts.Quotas.PublicKeys <= 0 {
		opts.Quotas.PublicKeys = 3
	}
	if opts.Quotas.ReplicationsPerParticipant <= 0 {
		opts.Quotas.ReplicationsPerParticipant = 5
	}
	if opts.Quotas.PublishersPerStage <= 0 {
		opts.Quotas.PublishersPerStage = 12
	}
	if opts.Quotas.SubscribersPerStage <= 0 {
		opts.Quotas.SubscribersPerStage = 10_000
	}
	q := &opts.Quotas
	for _, d := range []struct {
		v   *int
		def int
	}{{&q.Compositions, 20}, {&q.CompositionsPerStage, 5}, {&q.EncoderConfigurations, 20}, {&q.Channels, 5000}, {&q.PlaybackKeyPairs, 3}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if opts.MediaAddr == "" {
		opts.MediaAddr = "127.0.0.1:0"
	}
	if opts.SessionEndDelay <= 0 {
		opts.SessionEndDelay = 3 * time.Minute
	}
	if opts.ConnectionTimeout <= 0 {
		opts.ConnectionTimeout = 10 * time.Second
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EventQueueSize <= 0 {
		opts.EventQueueSize = defaultEventQueueSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("parse BaseURL %q: %w", opts.BaseURL, err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("BaseURL %q must be an absolute http or https URL", opts.BaseURL)
	}
	e := &Emulator{
		opts:      opts,
		base:      base,
		keyID:     fmt.Sprintf("arn:aws:ivs:%s:%s:public-key/emulator", opts.Region, opts.AccountID),
		log:       opts.Logger,
		now:       opts.Now,
		re:        newPatterns(),
		statePath: opts.StatePath,
		faults:    make(map[string]*fault),
		live:      make(map[string]*stageLive),
		conns:     make(map[string]*conn),
		sources:   make(map[string]*media.Source),

		compositions: make(map[string]*composition),
		playback:     make(map[string]*hls.Stream),
		sinks:        make(map[*sink]struct{}),
		stopSweep:    make(chan struct{}),
	}
	e.ops = e.operations()
	e.sqsOps = e.sqsOperations()
	e.queue = newEventQueue(opts.Now, opts.EventQueueSize)
	e.llOps = e.lowLatencyOperations()
	if err := e.load(); err != nil {
		return nil, fmt.Errorf("load emulator state: %w", err)
	}
	e.wg.Add(1)
	go e.sweepLoop()
	return e, nil
}

// operations maps each supported POST operation name to its handler. Tag
// operations are routed by method in ServeHTTP because they share a path.
func (e *Emulator) operations() map[string]operation {
	return map[string]operation{
		"CreateStage":                 e.createStage,
		"GetStage":                    e.getStage,
		"ListStages":                  e.listStages,
		"UpdateStage":                 e.updateStage,
		"DeleteStage":                 e.deleteStage,
		"CreateParticipantToken":      e.createParticipantToken,
		"DisconnectParticipant":       e.disconnectParticipant,
		"ImportPublicKey":             e.importPublicKey,
		"GetPublicKey":                e.getPublicKey,
		"ListPublicKeys":              e.listPublicKeys,
		"DeletePublicKey":             e.deletePublicKey,
		"StartParticipantReplication": e.startParticipantReplication,
		"StopParticipantReplication":  e.stopParticipantReplication,
		"ListParticipantReplicas":     e.listParticipantReplicas,
		"GetParticipant":              e.getParticipant,
		"ListParticipants":            e.listParticipants,
		"ListParticipantEvents":       e.listParticipantEvents,
		"GetStageSession":             e.getStageSession,
		"ListStageSessions":           e.listStageSessions,
		"StartComposition":            e.startComposition,
		"GetComposition":              e.getComposition,
		"StopComposition":             e.stopComposition,
		"ListCompositions":            e.listCompositions,
		"CreateEncoderConfiguration":  e.createEncoderConfiguration,
		"GetEncoderConfiguration":     e.getEncoderConfiguration,
		"DeleteEncoderConfiguration":  e.deleteEncoderConfiguration,
		"ListEncoderConfigurations":   e.listEncoderConfigurations,
	}
}

// Close disconnects every participant (their peer connections close and the
// UDP socket is released), stops the expiry sweep and the event sinks, and
// flushes the state to StatePath. The control plane keeps answering
// afterwards, so closing twice or serving a late request is harmless; the
// data plane answers 503.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		for _, c := range e.conns {
			e.endConnLocked(c)
		}
		for _, c := range e.compositions {
			e.endCompositionLocked(c, false)
			if c.state == "STOPPING" {
				e.stoppedLocked(c)
			}
		}
		for s := range e.sinks {
			e.finishSinkLocked(s)
		}
		close(e.stopSweep)
	}
	e.unlockClosing()
	e.queue.close()
	e.mediaMu.Lock()
	var mediaErr error
	if e.engine != nil {
		mediaErr = e.engine.Close()
		e.engine = nil
	}
	e.mediaMu.Unlock()
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := errors.Join(mediaErr, e.saveLocked()); err != nil {
		return fmt.Errorf("close emulator: %w", err)
	}
	return nil
}

// PublicKey returns the public half of the key that signs participant tokens.
func (e *Emulator) PublicKey() *ecdsa.PublicKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	return &e.signingKey.PublicKey
}

// KeyID returns the kid header value of the tokens the emulator mints.
func (e *Emulator) KeyID() string {
	return e.keyID
}

// InjectError makes the next times calls of operation (an AWS operation name
// such as "CreateStage" or "ListTagsForResource") fail with HTTP status and
// the AWS error type errorType, for example "ThrottlingException" and 429.
// A later call replaces the pending injection; times <= 0 clears it. A
// status outside 400-599 becomes 500 and an empty errorType becomes
// InternalServerException.
func (e *Emulator) InjectError(operation, errorType string, status, times int) {
	if !e.serves(operation) {
		// Most likely a typo; the injection would silently never fire.
		e.log.Warn("ivs emulator: InjectError for an operation the emulator does not serve", "operation", operation)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if times <= 0 {
		delete(e.faults, operation)
		return
	}
	// A status net/http cannot write would panic in ServeHTTP.
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	if errorType == "" {
		errorType = "InternalServerException"
	}
	e.faults[operation] = &fault{errorType: errorType, status: status, remaining: times}
}

// serves reports whether op is an operation name ServeHTTP can route to.
func (e *Emulator) serves(op string) bool {
	switch op {
	case "ListTagsForResource", "TagResource", "UntagResource", "JWKS", "SetPublishing", "Identity", "WHIP":
		return true
	}
	_, ok := e.ops[op]
	_, sqs := e.sqsOps[op]
	_, ll := e.llOps[op]
	return ok || sqs || ll
}

// takeFault consumes one pending injected error for op, if any.
func (e *Emulator) takeFault(op string) *apiError {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.faults[op]
	if !ok {
		return nil
	}
	f.remaining--
	if f.remaining <= 0 {
		delete(e.faults, op)
	}
	return &apiError{Type: f.errorType, Status: f.status, Message: "injected fault for " + op}
}

// ServeHTTP routes a request to its operation. It works at the root and under
// http.StripPrefix because it only looks at the path left to it.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	if strings.HasPrefix(r.URL.Path, "/whip/") {
		e.serveWHIP(w, r, reqID)
		return
	}
	if isSQS(r) {
		e.serveSQS(w, r, reqID)
		return
	}
	if strings.HasPrefix(r.URL.Path, playbackPrefix) {
		e.servePlayback(w, r)
		return
	}
	ops := e.ops
	if rest, ok := strings.CutPrefix(r.URL.Path, lowLatencyPrefix+"/"); ok {
		// The low-latency service: the same routing on its own operations.
		u := *r.URL
		u.Path, u.RawPath = "/"+rest, ""
		r2 := *r
		r2.URL = &u
		r, ops = &r2, e.llOps
	}
	op, handler, err := e.route(r, ops)
	if err == nil {
		if f := e.takeFault(op); f != nil {
			err = f
		} else {
			var out any
			out, err = handler(r)
			if err == nil {
				writeJSON(w, http.StatusOK, out)
				e.log.Debug("ivs emulator request", "op", op, "status", http.StatusOK, "requestId", reqID)
				return
			}
		}
	}
	e.fail(w, r, op, reqID, slog.LevelDebug, err)
}

// fail answers err and logs it: at level, or as an error for a 5xx.
func (e *Emulator) fail(w http.ResponseWriter, r *http.Request, op, reqID string, level slog.Level, err error) {
	status := writeError(w, err)
	if status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	e.log.Log(r.Context(), level, "ivs emulator request failed",
		"op", op, "method", r.Method, "path", r.URL.Path, "status", status, "requestId", reqID, "err", err)
}

// route finds the operation for a request. Tag operations are matched on the
// escaped path because their ARN label is percent-encoded.
func (e *Emulator) route(r *http.Request, ops map[string]operation) (string, operation, error) {
	path := r.URL.EscapedPath()
	switch {
	case path == "/.well-known/jwks.json":
		return "JWKS", e.jwks, allowMethod(r, http.MethodGet)
	case path == "/_emulator/identity":
		return "Identity", e.identity, allowMethod(r, http.MethodGet)
	case path == "/_emulator/publishing":
		return "SetPublishing", e.handleSetPublishing, allowMethod(r, http.MethodPost)
	case strings.HasPrefix(path, "/tags/"):
		switch r.Method {
		case http.MethodGet:
			return "ListTagsForResource", e.listTagsForResource, nil
		case http.MethodPost:
			return "TagResource", e.tagResource, nil
		case http.MethodDelete:
			return "UntagResource", e.untagResource, nil
		}
		return "", nil, methodNotAllowed(r, "GET, POST, DELETE")
	}
	name := strings.TrimPrefix(path, "/")
	handler, ok := ops[name]
	if !ok || strings.Contains(name, "/") {
		return "", nil, &apiError{
			Type:    "UnknownOperationException",
			Status:  http.StatusNotFound,
			Message: fmt.Sprintf("unknown operation %s %s", r.Method, r.URL.Path),
		}
	}
	return name, handler, allowMethod(r, http.MethodPost)
}

// allowMethod answers nil when r uses method and an AWS-style 405 otherwise.
func allowMethod(r *http.Request, method string) error {
	if r.Method == method {
		return nil
	}
	return methodNotAllowed(r, method)
}

func methodNotAllowed(r *http.Request, allowed string) *apiError {
	return &apiError{
		Type:    "MethodNotAllowedException",
		Status:  http.StatusMethodNotAllowed,
		Message: fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allowed),
		allow:   allowed,
	}
}
