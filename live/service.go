// Package live is the core of ivslive: it issues tokens, manages the stage
// pool, seats viewers and keeps the publisher's state, on top of the domain
// interfaces (IVS, TokenIssuer, StageStore, PresenceStore). It holds no
// adapter code; cmd/ivslive wires the adapters in.
package live

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// Config is the behaviour the operator tunes.
type Config struct {
	// MasterStageARN is the stage the publisher streams to. Empty: ivslive
	// creates one on first start and remembers it.
	MasterStageARN string
	// StageNamePrefix names the stages ivslive creates.
	StageNamePrefix string
	// Environment goes into the Environment tag of created stages.
	Environment string
	// MaxStages caps the managed stages (manual and auto-scaled).
	MaxStages int
	// Capacity is the most viewers a stage takes (MAX_VIEWERS_PER_STAGE).
	Capacity int
	// Threshold is the load under which a stage is preferred for new
	// viewers (SCALE_UP_THRESHOLD).
	Threshold int
	// PublisherGrace is how long the broadcast stays live after IVS reports
	// the host stopped publishing (PUBLISHER_GRACE_PERIOD): an encoder
	// restart within it does not end the show.
	PublisherGrace time.Duration
	// MaxSubscriptions is the account's concurrent-subscriptions quota in
	// IVS (MAX_CONCURRENT_SUBSCRIPTIONS): no viewer is seated past it.
	MaxSubscriptions int
	// PublisherTokenTTL, ViewerTokenTTL and MediaServerTokenTTL are token lifetimes.
	PublisherTokenTTL   time.Duration
	ViewerTokenTTL      time.Duration
	MediaServerTokenTTL time.Duration

	// AutoScale turns the scaler's stage creation and draining on.
	AutoScale bool
	// ScaleDownThreshold is the load at or under which an auto-scaled stage
	// past its warm-up is drained (SCALE_DOWN_THRESHOLD).
	ScaleDownThreshold int
	// WarmUp protects a new auto-scaled stage from scale-down.
	WarmUp time.Duration
	// DrainTimeout is how long a draining stage may keep viewers before it
	// is deleted anyway.
	DrainTimeout time.Duration
	// MaxReplicas is how many stages the publisher can be replicated into:
	// IVS allows 5 concurrent replications per participant.
	MaxReplicas int
	// AttendanceInterval is how often the leader compares presence with
	// IVS's participants (PRESENCE_RECONCILE_INTERVAL); embedded mode also
	// acts on every join and leave the emulator reports.
	AttendanceInterval time.Duration
	// QuietAfter is how long a viewer may stay silent before an incremental
	// checkpoint writes its exact last-seen; the others are restored as seen
	// this long before the checkpoint (default 40 s; two thirds of
	// VIEWER_TIMEOUT in main).
	QuietAfter time.Duration

	// IVSIdentity names the IVS this instance talks to (ivs.Client's
	// Identity); "" skips the check. The stage store records the first
	// instance's, and Bootstrap refuses another.
	IVSIdentity string
	// StoreLocal is true when no other instance can share the stage store
	// (SQLite in the data dir): a store recorded for another IVS (the
	// embedded emulator's state was lost) is taken over, not refused.
	StoreLocal bool
}

// EventRecorder records events durably (the webhook queue).
type EventRecorder interface {
	// Record returns once events are recorded, or with an error when that
	// did not happen in time (they may still be recorded later).
	Record(ctx context.Context, events []ivslive.Event) error
}

// Tag values that mark the stages ivslive manages.
const (
	TagManagedBy    = "ManagedBy"
	ManagedByValue  = "ivslive"
	TagAutoScaled   = "AutoScaled"
	TagEnvironment  = "Environment"
	seedManagedTag  = "api-server" // stages the Node server created
	maxTags         = 50
	maxTagKeyLength = 128
	maxTagValueLen  = 256
)

// Service is the live control plane. Its fields are set once in main.
type Service struct {
	IVS      ivslive.IVS
	Tokens   ivslive.TokenIssuer
	Stages   ivslive.StageStore
	Presence ivslive.PresenceStore
	// History keeps closed sessions, snapshots and checkpoints.
	History ivslive.HistoryStore
	Config  Config
	Now     func() time.Time
	Log     *slog.Logger

	// Events receives every presence and stage change; optional.
	Events ivslive.EventPublisher
	// Webhooks, when set, records the same changes with the detail the
	// bus summarises: one viewer.left per closed session, whatever ended
	// it, with the stage's viewer count after it. It is called on the
	// instance where the change happened, so each change reaches it once.
	Webhooks EventRecorder
	// Observer counts what happens, for metrics; optional.
	Observer Observer

	// Leader, when set, is this instance's leader election: Bootstrap
	// takes the lease before it replaces a master stage that is gone. Nil:
	// the instance is alone.
	Leader *Leader

	// Nudge, when set, is called (never blocking) when a join sees a stage
	// cross the scale-up threshold or the publisher changes, so the scaler
	// acts before its next tick.
	Nudge func()

	// Playback, when set, sends viewers past the real-time seats to the
	// stage's composition on an IVS channel (see Playback); nil answers
	// STAGE_FULL as before.
	Playback *Playback

	// restoreMu serialises rebuilding a lost presence store with the jobs
	// that must not see it half rebuilt (checkpoints).
	restoreMu sync.Mutex
	// checkpointed is set once a checkpoint of a change-tracking presence
	// store succeeded, so the next one writes only the changes (under
	// restoreMu).
	checkpointed bool
	// unwritten holds the changes of an incremental checkpoint that could
	// not be written, for the next one (under restoreMu; keepUnwritten).
	unwritten *ivslive.Checkpoint

	// hostMu serialises this instance's changes to the publisher record
	// (tokens, IVS events, the reconciler), each a read then a write.
	hostMu sync.Mutex

	mu      sync.RWMutex
	catalog map[string]ivslive.Stage // managed stages by ARN
	foreign map[string]foreignStage  // endpoints of stages we do not manage
	master  string
}

// New returns a Service. Call Bootstrap before serving.
func New(cfg Config, ivs ivslive.IVS, tokens ivslive.TokenIssuer, stages ivslive.StageStore, presence ivslive.PresenceStore, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		IVS: ivs, Tokens: tokens, Stages: stages, Presence: presence,
		Config: cfg, Now: time.Now, Log: log,
		catalog: map[string]ivslive.Stage{},
		foreign: map[string]foreignStage{},
	}
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// MasterARN returns the master stage's ARN ("" before Bootstrap).
func (s *Service) MasterARN() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.master
}

func (s *Service) remember(st ivslive.Stage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.catalog[st.ARN] = st
}

func (s *Service) forget(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.catalog, arn)
}

// managed returns a stage ivslive manages, from the catalog or else the
// stage store (another instance may have created it), or ENOTFOUND.
func (s *Service) managed(ctx context.Context, arn string) (ivslive.Stage, error) {
	s.mu.RLock()
	st, ok := s.catalog[arn]
	s.mu.RUnlock()
	if ok {
		return st, nil
	}
	st, err := s.Stages.FindStageByARN(ctx, arn)
	if err != nil {
		return ivslive.Stage{}, err
	}
	if st.State == ivslive.StageDeleted {
		return ivslive.Stage{}, ivslive.NotFound(ivslive.RStage)
	}
	s.remember(st)
	return st, nil
}

// foreignTTL is how long the endpoints of a stage ivslive does not manage
// are reused. IVS says endpoints stay valid for at most 14 days; an hour
// costs one GetStage per stage per hour, and a stage deleted meanwhile
// stops getting tokens within the hour.
const foreignTTL = time.Hour

// foreignStage is a cached stage ivslive does not manage.
type foreignStage struct {
	stage   ivslive.Stage
	fetched time.Time
}

// stage returns a stage with its endpoints: a managed one, or any stage IVS
// knows (cached for foreignTTL on the service's clock).
func (s *Service) stage(ctx context.Context, arn string) (ivslive.Stage, error) {
	st, err := s.managed(ctx, arn)
	if ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		return st, err
	}
	now := s.now()
	s.mu.RLock()
	f, ok := s.foreign[arn]
	s.mu.RUnlock()
	if ok && now.Sub(f.fetched) < foreignTTL {
		return f.stage, nil
	}
	st, err = s.IVS.GetStage(ctx, arn)
	if err != nil {
		if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
			s.mu.Lock()
			delete(s.foreign, arn)
			s.mu.Unlock()
		}
		return ivslive.Stage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for a, f := range s.foreign { // the map holds only live entries
		if now.Sub(f.fetched) >= foreignTTL {
			delete(s.foreign, a)
		}
	}
	s.foreign[arn] = foreignStage{stage: st, fetched: now}
	return st, nil
}

func (s *Service) nudge() {
	if s.Nudge != nil {
		s.Nudge()
	}
}
