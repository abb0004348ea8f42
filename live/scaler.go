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
	mu     sync.Mutex
	status ScalerStatus
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
	whileLeader(ctx, sc.Interval, sc.Leader, sc.nudges, func(ctx context.Context) {
		if err := sc.Check(ctx); err != nil {
			sc.Service.Log.Warn("scaler check failed", "err", err)
		}
	})
}

// pool is the scaler's view of the managed stages.
type pool struct {
	stages     []ivslive.Stage
	counts     map[string]int
	total      int // viewers on every managed stage
	active     int // stages taking new viewers
	autoScaled int // auto-scaled stages that are not deleted
	publisher  *ivslive.Publisher
}

func (sc *Scaler) pool(ctx context.Context) (pool, error) {
	s := sc.Service
	var p pool
	stages, _, _, err := s.Stages.FindStages(ctx, ivslive.StageFilter{})
	if err != nil {
		return p, err
	}
	if p.counts, err = s.counts(ctx); err != nil {
		return p, err
	}
	p.stages = stages
	for _, st := range stages {
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
	return p, nil
}

// Check runs one round: keep replications right, finish draining stages,
// then add or drain at most one stage.
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
	p, err := sc.pool(ctx)
	if err != nil {
		return err
	}
	sc.replicate(ctx, p)
	for _, st := range p.stages {
		if st.State != ivslive.StageDraining {
			continue
		}
		n := p.counts[st.ARN]
		if n == 0 || s.now().Sub(st.DrainingSince) >= s.Config.DrainTimeout {
			if err := s.removeStage(ctx, st, fmt.Sprintf("drained (%d viewers left)", n)); err != nil {
				return err
			}
			action = "deleted " + st.ARN
		}
	}
	if !s.Config.AutoScale {
		return nil
	}
	capacity := float64(s.Config.Threshold * p.active)
	switch {
	case float64(p.total) > upFactor*capacity:
		action, err = sc.grow(ctx, p)
	case float64(p.total) < downFactor*float64(s.Config.Threshold*(p.active-1)):
		action, err = sc.shrink(ctx, p)
	}
	return err
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
	if reason := sc.Service.growBlocker(p.stages, p.autoScaled, p.publisher != nil); reason != "" {
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
	sc.startReplication(ctx, st, p.publisher)
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

// replicate keeps every auto-scaled stage fed with the live publisher: it
// starts missing replications, restarts those of an older participant (the
// publisher reconnected with a new token) and stops them when the broadcast
// ended. Failures are retried at the next check.
func (sc *Scaler) replicate(ctx context.Context, p pool) {
	s := sc.Service
	for _, st := range p.stages {
		if !st.AutoScaled || st.State == ivslive.StageDeleted {
			continue
		}
		want := ""
		if p.publisher != nil {
			want = p.publisher.ParticipantID
		}
		if r := st.Replication; r != nil && r.ParticipantID != want {
			if err := s.IVS.StopReplication(ctx, *r); err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
				s.Log.Warn("could not stop a stale replication", "arn", st.ARN, "err", err)
				continue
			}
			st.Replication = nil
			if err := s.saveStage(ctx, st); err != nil {
				s.Log.Warn("could not record a stopped replication", "arn", st.ARN, "err", err)
				continue
			}
			s.Log.Info("replication stopped", "destination", st.ARN, "participant", r.ParticipantID)
			s.emit(ctx, ivslive.Event{Type: ivslive.EventReplicationStopped, StageARN: st.ARN, ParticipantID: r.ParticipantID})
		}
		if want != "" && st.Replication == nil {
			sc.startReplication(ctx, st, p.publisher)
		}
	}
}

func (sc *Scaler) startReplication(ctx context.Context, st ivslive.Stage, pub *ivslive.Publisher) {
	if pub == nil {
		return
	}
	s := sc.Service
	r := ivslive.Replication{SourceStageARN: pub.StageARN, DestinationStageARN: st.ARN, ParticipantID: pub.ParticipantID}
	if _, err := s.StartReplication(ctx, r); err != nil {
		s.Log.Warn("replication into an auto-scaled stage failed; will retry", "destination", st.ARN, "participant", pub.ParticipantID, "err", err)
	}
}
