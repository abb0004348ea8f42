package live

import (
	"context"
	"time"

	"github.com/ivslive/ivslive"
)

// presenceStores are the stores a checkpoint covers: the real-time
// viewers', and the playback audience's when playback is on (in embedded
// mode both are memory, and a restart without it would lose every viewer
// past the seats).
func (s *Service) presenceStores() []ivslive.PresenceStore {
	if s.Playback != nil && s.Playback.Presence != nil {
		return []ivslive.PresenceStore{s.Presence, s.Playback.Presence}
	}
	return []ivslive.PresenceStore{s.Presence}
}

// LiveSessions returns every live session, stage by stage, playback
// sessions last (for checkpoints).
func (s *Service) LiveSessions(ctx context.Context) ([]ivslive.ViewerSession, error) {
	var all []ivslive.ViewerSession
	for _, p := range s.presenceStores() {
		loads, err := p.Loads(ctx)
		if err != nil {
			return nil, err
		}
		for _, l := range loads {
			vs, err := p.Viewers(ctx, l.ARN)
			if err != nil {
				return nil, err
			}
			all = append(all, vs...)
		}
	}
	return all, nil
}

// checkpointChanges returns what the checkpoint writes at now.
func (s *Service) checkpointChanges(ctx context.Context, now time.Time) (ivslive.Checkpoint, error) {
	c := ivslive.Checkpoint{TakenAt: now}
	var trackers []ivslive.ChangeTracker
	for _, p := range s.presenceStores() {
		t, ok := p.(ivslive.ChangeTracker)
		if !ok {
			sessions, err := s.LiveSessions(ctx)
			c.Sessions = sessions
			return c, err
		}
		trackers = append(trackers, t)
	}
	// Every saved session not silent since SeenSince was heard from after
	// it; the silent ones are written with their exact last-seen.
	c.SeenSince = now.Add(-s.quietAfter())
	changes, full, err := changesOf(ctx, trackers, c.SeenSince, !s.checkpointed)
	if err == nil && full && s.checkpointed {
		// One store's changes overflowed: a full checkpoint replaces every
		// stored session, so every store is copied whole.
		changes, full, err = changesOf(ctx, trackers, c.SeenSince, true)
	}
	if err != nil {
		s.checkpointed = false
		return c, err
	}
	for _, ch := range changes {
		c.Sessions = append(c.Sessions, ch.Upsert...)
		c.Gone = append(c.Gone, ch.Gone...)
	}
	c.Incremental = !full
	if full {
		c.SeenSince = time.Time{}
	}
	return c, nil
}

// changesOf asks each tracker for its changes, and says whether one of
// them is whole.
func changesOf(ctx context.Context, trackers []ivslive.ChangeTracker, quiet time.Time, all bool) ([]ivslive.PresenceChanges, bool, error) {
	out := make([]ivslive.PresenceChanges, len(trackers))
	full := false
	for i, t := range trackers {
		ch, err := t.Changes(ctx, quiet, all)
		if err != nil {
			return nil, false, err
		}
		out[i], full = ch, full || ch.Full
	}
	return out, full, nil
}

// maxUnwritten bounds the changes kept for the next checkpoint when one
// could not be written (a history store down for long): past it they are
// dropped and the next checkpoint is full.
const maxUnwritten = 4 << 20

// keepUnwritten keeps the changes of a checkpoint that could not be
// written for the next one. The tracker forgot them when it handed them
// over: without this a checkpoint cut short (the shutdown cancelling the
// periodic one, a database hiccup) meant a full copy next, and at a
// million viewers the final checkpoint at shutdown would copy everything
// and miss its deadline. A full copy that failed is simply taken again.
func (s *Service) keepUnwritten(c ivslive.Checkpoint) {
	if !c.Incremental || len(c.Sessions)+len(c.Gone) > maxUnwritten {
		s.checkpointed, s.unwritten = false, nil
		return
	}
	s.unwritten = &c
}

// withUnwritten returns c preceded by the changes of a checkpoint that
// could not be written. c's facts are newer and win: a session it deletes
// or rewrites is dropped from the older changes (the history store deletes
// before it writes, and a batch must not name a session twice). A full c
// replaces everything and needs none of them.
func (s *Service) withUnwritten(c ivslive.Checkpoint) ivslive.Checkpoint {
	old := s.unwritten
	if old == nil || !c.Incremental {
		return c
	}
	newer := make(map[string]bool, len(c.Sessions)+len(c.Gone))
	for _, v := range c.Sessions {
		newer[v.ID] = true
	}
	for _, id := range c.Gone {
		newer[id] = true
	}
	sessions := make([]ivslive.ViewerSession, 0, len(old.Sessions)+len(c.Sessions))
	for _, v := range old.Sessions {
		if !newer[v.ID] {
			sessions = append(sessions, v)
		}
	}
	c.Sessions = append(sessions, c.Sessions...)
	c.Gone = append(append([]string(nil), old.Gone...), c.Gone...)
	return c
}

// quietAfter is how long a viewer may stay silent before an incremental
// checkpoint writes its exact last-seen (Config.QuietAfter).
func (s *Service) quietAfter() time.Duration {
	if s.Config.QuietAfter > 0 {
		return s.Config.QuietAfter
	}
	return 40 * time.Second
}

// restoreSessions puts checkpointed sessions back in their store: playback
// sessions (their stage is the channel) in the playback store, whose
// channel is registered first, the others in the real-time store.
func (s *Service) restoreSessions(ctx context.Context, sessions []ivslive.ViewerSession) (int, error) {
	if s.Playback == nil || s.Playback.Presence == nil {
		return s.Presence.Restore(ctx, sessions)
	}
	var realtime, playback []ivslive.ViewerSession
	channels := map[string]bool{}
	for _, v := range sessions {
		if ivslive.ValidChannelARN(v.StageARN) {
			playback = append(playback, v)
			channels[v.StageARN] = true
		} else {
			realtime = append(realtime, v)
		}
	}
	n, err := s.Presence.Restore(ctx, realtime)
	if err != nil || len(playback) == 0 {
		return n, err
	}
	for ch := range channels {
		if err := s.Playback.Presence.PutStage(ctx, ch, ivslive.StageNamed); err != nil {
			return n, err
		}
	}
	m, err := s.Playback.Presence.Restore(ctx, playback)
	return n + m, err
}
