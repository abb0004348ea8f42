package live

import (
	"context"

	"github.com/ivslive/ivslive"
)

// reconcileHost is the backstop for lost events: the leader asks IVS who
// publishes on the master stage (GetStage for its session, then
// ListParticipants filtered by published) and records it as an event would.
// IVS's "published" means "published at some time in this session", so the
// host counts as publishing while such a participant is still connected.
// The observation is dated when the look began: an event that arrives
// meanwhile is newer and wins. Two calls per scaler round, paced by the
// IVS adapter within the account's quotas.
func (s *Service) reconcileHost(ctx context.Context) error {
	at := s.now()
	pub, err := s.Presence.Publisher(ctx)
	if err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		return err
	}
	master, err := s.IVS.GetStage(ctx, s.MasterARN())
	if err != nil {
		return err
	}
	var host *ivslive.Participant
	if master.ActiveSessionID != "" {
		ps, err := s.IVS.ListParticipants(ctx, master.ARN, master.ActiveSessionID, ivslive.ParticipantFilter{Published: true})
		if err != nil {
			return err
		}
		for i, p := range ps {
			_, byToken := hostUserID(p.UserID)
			recorded := p.ID != "" && (p.ID == pub.ParticipantID || p.ID == pub.PublishingID)
			if !byToken && !recorded || !p.Connected || p.Replica {
				continue
			}
			if host == nil || p.FirstJoinTime.After(host.FirstJoinTime) {
				host = &ps[i]
			}
		}
	}
	if host != nil {
		user, byToken := hostUserID(host.UserID)
		_, err := s.observeHost(ctx, hostObservation{At: at, ParticipantID: host.ID, UserID: user, HostToken: byToken, Publishing: true, Source: "reconciler"})
		return err
	}
	if !pub.Publishing {
		return nil
	}
	_, err = s.observeHost(ctx, hostObservation{At: at, ParticipantID: pub.PublishingID, UserID: pub.UserID, Source: "reconciler"})
	return err
}

// hostReplicas returns the replications of the host's participant that IVS
// reports ACTIVE, by destination (one ListParticipantReplicas call): none
// without a publisher, nil when IVS could not be asked.
func (s *Service) hostReplicas(ctx context.Context, pub *ivslive.Publisher) map[string]ivslive.Replication {
	if pub == nil {
		return map[string]ivslive.Replication{}
	}
	reps, err := s.IVS.ListReplicas(ctx, pub.StageARN, pub.Source())
	if err != nil {
		s.Log.Warn("could not list the host's replications; will retry", "participant", pub.Source(), "err", err)
		return nil
	}
	m := make(map[string]ivslive.Replication, len(reps))
	for _, r := range reps {
		m[r.DestinationStageARN] = r
	}
	return m
}

// otherReplicas counts the host's active replications into stages that are
// not auto-scaled, which take from the same quota.
func (p pool) otherReplicas() int {
	auto := map[string]bool{}
	for _, st := range p.stages {
		if st.AutoScaled && st.State != ivslive.StageDeleted {
			auto[st.ARN] = true
		}
	}
	n := 0
	for dst := range p.replicas {
		if !auto[dst] {
			n++
		}
	}
	return n
}

// replicate keeps every auto-scaled stage fed with the host and seats
// viewers only where IVS reports the feed ACTIVE. It records a replication
// IVS has but the store lost, restarts one IVS stopped (the host was gone
// past the reconnect window) while the host publishes, moves them to the
// participant that actually publishes, and stops them when the broadcast
// ended. The quota of concurrent replications counts every replication of
// the host, the API's too. Failures are retried at the next check.
func (sc *Scaler) replicate(ctx context.Context, p pool) {
	s := sc.Service
	keep := ""
	if p.publisher != nil {
		keep = p.publisher.Source()
	}
	publishing := p.publisher != nil && p.publisher.Publishing && p.replicas != nil
	room := s.Config.MaxReplicas - len(p.replicas)
	started := false
	for _, st := range p.stages {
		if !st.AutoScaled || st.State == ivslive.StageDeleted {
			continue
		}
		if r := st.Replication; r != nil && r.ParticipantID != keep {
			if !sc.stopStale(ctx, st, *r) {
				continue
			}
			st.Replication = nil
		}
		_, active := p.replicas[st.ARN]
		switch {
		case active && st.Replication == nil: // IVS has it; the store lost it
			r := p.replicas[st.ARN]
			r.StartedAt = s.now()
			st.Replication = &r
			if err := s.saveStage(ctx, st); err != nil {
				s.Log.Warn("could not record a replication", "arn", st.ARN, "err", err)
			}
		case !active && publishing && st.State == ivslive.StageActive:
			if room <= 0 {
				s.Log.Warn("replication quota reached; stage waits", "destination", st.ARN, "quota", s.Config.MaxReplicas)
				continue
			}
			if sc.startReplication(ctx, st, p.publisher) {
				room--
				started = true
			}
		}
	}
	if started { // seat on them only once IVS reports them ACTIVE
		p.replicas = s.hostReplicas(ctx, p.publisher)
	}
	sc.seat(ctx, p)
}

// seat puts every managed stage in the presence state its host media calls
// for, when it is not there already. Without IVS's answer (nil replicas)
// auto-scaled stages keep their seating.
func (sc *Scaler) seat(ctx context.Context, p pool) {
	s := sc.Service
	for _, st := range p.stages {
		if st.State == ivslive.StageDeleted || st.AutoScaled && p.replicas == nil {
			continue
		}
		_, media := p.replicas[st.ARN]
		want := seating(st, media)
		if cur, ok := p.seating[st.ARN]; ok && cur == want {
			continue
		}
		if err := s.Presence.PutStage(ctx, st.ARN, want); err != nil {
			s.Log.Warn("could not change a stage's seating", "arn", st.ARN, "err", err)
			continue
		}
		if st.AutoScaled {
			s.Log.Info("stage seating", "arn", st.ARN, "state", want, "hostMedia", media)
		}
	}
}

// stopStale stops a replication of a participant that is no longer the
// host's and forgets it; false when that failed.
func (sc *Scaler) stopStale(ctx context.Context, st ivslive.Stage, r ivslive.Replication) bool {
	s := sc.Service
	if err := s.IVS.StopReplication(ctx, r); err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		s.Log.Warn("could not stop a stale replication", "arn", st.ARN, "err", err)
		return false
	}
	st.Replication = nil
	if err := s.saveStage(ctx, st); err != nil {
		s.Log.Warn("could not record a stopped replication", "arn", st.ARN, "err", err)
		return false
	}
	s.Log.Info("replication stopped", "destination", st.ARN, "participant", r.ParticipantID)
	s.emit(ctx, ivslive.Event{Type: ivslive.EventReplicationStopped, StageARN: st.ARN, ParticipantID: r.ParticipantID})
	return true
}

// startReplication replicates the host into st; false when IVS refused.
func (sc *Scaler) startReplication(ctx context.Context, st ivslive.Stage, pub *ivslive.Publisher) bool {
	s := sc.Service
	r := ivslive.Replication{SourceStageARN: pub.StageARN, DestinationStageARN: st.ARN, ParticipantID: pub.Source()}
	if _, err := s.StartReplication(ctx, r); err != nil {
		s.Log.Warn("replication into an auto-scaled stage failed; will retry", "destination", st.ARN, "participant", r.ParticipantID, "err", err)
		return false
	}
	return true
}
