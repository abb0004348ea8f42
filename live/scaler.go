package live

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// Scale rules. The pool grows when its viewers pass upFactor of the
// threshold capacity of the active stages (the Node server's rule: more than
// 0.8 × 45 × N), and shrinks only when they are under downFactor of the
// capacity that would remain, so one stage more or less never flips the
// decision back (hysteresis).
const (
	upFactor   = 0.8
	downFactor = 0.5
)

// Scaler grows and shrinks the pool of auto-scaled stages and keeps the
// publisher replicated into them. It runs on the leader only, every Interval
// and when nudged (a join crossed the threshold, the publisher changed).
type Scaler struct {
	Service  *Service
	Leader   interface{ IsLeader() bool }
	Interval time.Duration

	once   sync.Once
	nudges chan struct{}
	// lastDrift is when checkDrift last ran; orphans are the stages it saw
	// tagged as ours but unknown to the store.
	// host is the publisher's participant at the last round, so the round
	// that finds none says the broadcast ended.
	host *ivslive.Publisher

	driftMu   sync.Mutex
	lastDrift time.Time
	orphans   map[string]bool
	mu        sync.Mutex
	status    ScalerStatus
}

// ScalerStatus is what the scaler last did and why it could not do more.
type ScalerStatus struct {
	LastCheck  time.Time
	LastAction string
	LastError  string
}

func (sc *Scaler) init() { sc.once.Do(func() { sc.nudges = make(chan struct{}, 1) }) }

// Nudge asks for a check soon; it never blocks.
func (sc *Scaler) Nudge() {
	sc.init()
	select {
	case sc.nudges <- struct{}{}:
	default:
	}
}

// Status returns the last check's outcome.
func (sc *Scaler) Status() ScalerStatus {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.status
}

// Run checks until ctx is done.
func (sc *Scaler) Run(ctx context.Context) {
	sc.init()
	WhileLeader(ctx, sc.Interval, sc.Leader, sc.nudges, func(ctx context.Context) {
		if err := sc.Check(ctx); err != nil {
			sc.Service.Log.Warn("scaler check failed", "err", err)
		}
	})
}

// pool is the scaler's view of the managed stages.
type pool struct {
	stages     []ivslive.Stage
	counts     map[string]int
	seating    map[string]ivslive.StageState // presence states
	total      int                           // viewers on the master and auto-scaled stages
	active     int                           // of those, the ones that are active
	autoScaled int                           // auto-scaled stages that are not deleted
	publisher  *ivslive.Publisher
	// replicas are the host's replications IVS reports ACTIVE, by
	// destination, whoever started them (nil when there is no publisher or
	// IVS could not be asked).
	replicas map[string]ivslive.Replication
}

func (sc *Scaler) pool(ctx context.Context) (pool, error) {
	s := sc.Service
	var p pool
	stages, _, _, err := s.Stages.FindStages(ctx, ivslive.StageFilter{})
	if err != nil {
		return p, err
	}
	loads, err := s.Presence.Loads(ctx)
	if err != nil {
		return p, err
	}
	p.counts, p.seating = make(map[string]int, len(loads)), make(map[string]ivslive.StageState, len(loads))
	for _, l := range loads {
		p.counts[l.ARN], p.seating[l.ARN] = l.Viewers, l.State
	}
	p.stages = stages
	for _, st := range stages {
		if !st.Master && !st.AutoScaled {
			continue // made by hand: seated only by name, not the pool's capacity
		}
		p.total += p.counts[st.ARN]
		if st.State == ivslive.StageActive {
			p.active++
		}
		if st.AutoScaled {
			p.autoScaled++
		}
	}
	pub, err := s.Presence.Publisher(ctx)
	switch ivslive.ErrorCode(err) {
	case "":
		p.publisher = &pub
	case ivslive.ENOTFOUND:
	default:
		return p, err
	}
	p.replicas = s.hostReplicas(ctx, p.publisher)
	return p, nil
}

// Check runs one round: look at the host in IVS (the reconciler), finish
// draining stages, add or drain at most one stage, then keep replications
// and seating right.
func (sc *Scaler) Check(ctx context.Context) (err error) {
	s := sc.Service
	var action string
	defer func() {
		sc.mu.Lock()
		sc.status = ScalerStatus{LastCheck: s.now(), LastAction: action}
		if err != nil {
			sc.status.LastError = err.Error()
		}
		sc.mu.Unlock()
	}()
	// A presence store that lost its state reads as empty stages and no
	// publisher: acting on that would drain stages and stop replications.
	if err := s.EnsurePresence(ctx); err != nil {
		return err
	}
	sc.drift(ctx)
	if err := s.reconcileHost(ctx); err != nil {
		sc.Service.Log.Warn("could not look at the host in IVS; will retry", "err", err)
	}
	p, err := sc.pool(ctx)
	if err != nil {
		return err
	}
	sc.followHost(ctx, p.publisher)
	action, err = sc.resize(ctx, p)
	if action != "" { // a stage came or went: look again
		if p, err = sc.pool(ctx); err != nil {
			return err
		}
	}
	// Replications and seating last, so a stage made or reactivated now is
	// fed and seated in this same round.
	sc.replicate(ctx, p)
	if perr := s.keepPlayback(ctx, p.total, p.publisher != nil); perr != nil {
		s.Log.Warn("playback composition check failed", "err", perr)
	}
	return err
}

// resize finishes draining stages, then adds or drains at most one stage.
func (sc *Scaler) resize(ctx context.Context, p pool) (action string, err error) {
	s := sc.Service
	for _, st := range p.stages {
		if st.State != ivslive.StageDraining {
			continue
		}
		n := p.counts[st.ARN]
		if n == 0 || s.now().Sub(st.DrainingSince) >= s.Config.DrainTimeout {
			if err := s.removeStage(ctx, st, fmt.Sprintf("drained (%d viewers left)", n)); err != nil {
				return action, err
			}
			action = "deleted " + st.ARN
		}
	}
	if !s.Config.AutoScale {
		return action, nil
	}
	capacity := float64(s.Config.Threshold * p.active)
	switch {
	case float64(p.total) > upFactor*capacity:
		action, err = sc.grow(ctx, p)
	case float64(p.total) < downFactor*float64(s.Config.Threshold*(p.active-1)):
		action, err = sc.shrink(ctx, p)
	}
	return action, err
}

// grow adds capacity: it reactivates a draining stage if there is one, else
// creates a stage the publisher can be replicated into.
func (sc *Scaler) grow(ctx context.Context, p pool) (string, error) {
	s := sc.Service
	for _, st := range p.stages {
		if st.State == ivslive.StageDraining {
			if err := s.setState(ctx, st, ivslive.StageActive); err != nil {
				return "", err
			}
			s.Log.Info("scale up: reactivated a draining stage", "arn", st.ARN, "viewers", p.total, "activeStages", p.active)
			return "reactivated " + st.ARN, nil
		}
	}
	if reason := sc.Service.growBlocker(p.stages, p.autoScaled, p.publisher != nil, p.otherReplicas()); reason != "" {
		s.Log.Warn("scale up needed but blocked", "reason", reason, "viewers", p.total, "activeStages", p.active)
		return "", nil
	}
	name := s.Config.StageNamePrefix + "auto-" + ivslive.RandomID(8)
	st, err := s.CreateStage(ctx, name, map[string]string{"ParentStage": s.MasterARN()}, true)
	if err != nil {
		return "", fmt.Errorf("scale up: %w", err)
	}
	s.Log.Info("scale up: created a stage", "arn", st.ARN, "name", name, "viewers", p.total,
		"activeStages", p.active, "rule", fmt.Sprintf("%d > %.1f", p.total, upFactor*float64(s.Config.Threshold*p.active)))
	return "created " + st.ARN, nil
}

// shrink drains the least-loaded auto-scaled stage that is past its warm-up
// and at or under the scale-down threshold.
func (sc *Scaler) shrink(ctx context.Context, p pool) (string, error) {
	s := sc.Service
	var pick *ivslive.Stage
	for i, st := range p.stages {
		if !st.AutoScaled || st.Master || st.State != ivslive.StageActive {
			continue
		}
		n := p.counts[st.ARN]
		if n > s.Config.ScaleDownThreshold || s.now().Sub(st.CreatedAt) < s.Config.WarmUp {
			continue
		}
		if pick == nil || n < p.counts[pick.ARN] {
			pick = &p.stages[i]
		}
	}
	if pick == nil {
		return "", nil
	}
	if err := s.setState(ctx, *pick, ivslive.StageDraining); err != nil {
		return "", err
	}
	s.Log.Info("scale down: draining a stage", "arn", pick.ARN, "viewers", p.counts[pick.ARN], "poolViewers", p.total, "activeStages", p.active)
	return "draining " + pick.ARN, nil
}
