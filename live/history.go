package live

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ivslive/ivslive"
)

// historyUnavailable is what a client sees when the history database fails:
// a 503, never an empty success.
func historyUnavailable(err error) error {
	if ivslive.ErrorCode(err) == ivslive.EVALIDATION {
		return err
	}
	return ivslive.ReasonError(ivslive.EUNAVAILABLE, ivslive.RHistoryUnavailable).WithCause(err)
}

// ViewerHistory returns one page of a user's past sessions, newest first.
func (s *Service) ViewerHistory(ctx context.Context, userID, after string, limit int) ([]ivslive.ClosedSession, string, int, error) {
	if err := validateID("userId", userID); err != nil {
		return nil, "", 0, err
	}
	page, next, total, err := s.History.FindSessions(ctx, ivslive.SessionFilter{UserID: userID, After: after, Limit: limit})
	if err != nil {
		return nil, "", 0, historyUnavailable(err)
	}
	return page, next, total, nil
}

// StageHistory is what happened on a stage over a range of days.
type StageHistory struct {
	Since, Until time.Time
	Stats        ivslive.SessionStats
	PeakViewers  int
	Bucket       time.Duration
	Series       []ivslive.SnapshotBucket
}

// bucketSizes are the widths a series may use; the smallest that keeps the
// series within maxPoints is chosen, so a day and ninety days both chart well.
var bucketSizes = []time.Duration{5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour,
	3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

const maxPoints = 300

// BucketFor returns the snapshot bucket width for a range.
func BucketFor(r time.Duration) time.Duration {
	for _, b := range bucketSizes {
		if r/b <= maxPoints {
			return b
		}
	}
	return bucketSizes[len(bucketSizes)-1]
}

// StageHistory summarises a stage's sessions and audience over the last days
// (the stage may be deleted by now; "*" is the whole pool).
func (s *Service) StageHistory(ctx context.Context, stageARN string, days int) (StageHistory, error) {
	if stageARN != ivslive.TotalStageARN && !ivslive.ValidStageARN(stageARN) {
		return StageHistory{}, ivslive.Errorf(ivslive.EVALIDATION, "stageArn is not a valid IVS stage ARN")
	}
	h := StageHistory{Until: s.now(), Since: s.now().Add(-time.Duration(days) * 24 * time.Hour)}
	h.Bucket = BucketFor(h.Until.Sub(h.Since))
	var err error
	if stageARN != ivslive.TotalStageARN {
		if h.Stats, err = s.History.StageSessionStats(ctx, stageARN, h.Since); err != nil {
			return h, historyUnavailable(err)
		}
	}
	if h.PeakViewers, err = s.History.PeakViewers(ctx, stageARN, h.Since, h.Until); err != nil {
		return h, historyUnavailable(err)
	}
	if h.Series, err = s.History.SnapshotSeries(ctx, stageARN, h.Since, h.Until, h.Bucket); err != nil {
		return h, historyUnavailable(err)
	}
	return h, nil
}

// Checkpoint copies the live sessions, and the live publisher, into the
// history store, and returns how many sessions it wrote. A presence store
// that tracks its changes (both twins do) is copied whole once per process
// (in Redis, once per leader), then only for what changed: joins, leaves,
// and the exact last-seen of the viewers gone silent. A store that does
// not is copied whole each time.
func (s *Service) Checkpoint(ctx context.Context) (int, error) {
	// A presence store that lost its state must be rebuilt first: saving it
	// would overwrite the checkpoint that is about to bring it back. Holding restoreMu to the end keeps a
	// restore running in the sweeper from being seen half-done: stages
	// registered, sessions not yet back.
	s.restoreMu.Lock()
	defer s.restoreMu.Unlock()
	if err := s.ensurePresence(ctx); err != nil {
		return 0, err
	}
	c, err := s.checkpointChanges(ctx, s.now())
	if err != nil {
		return 0, err
	}
	c = s.withUnwritten(c)
	pub := ""
	if p, err := s.Presence.Publisher(ctx); err == nil {
		b, _ := json.Marshal(p)
		pub = string(b)
	} else if ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		s.keepUnwritten(c)
		return 0, err
	}
	if err := s.History.SaveCheckpoint(ctx, c); err != nil {
		s.keepUnwritten(c)
		return 0, err
	}
	s.checkpointed, s.unwritten = true, nil
	if err := s.Stages.SetSetting(ctx, ivslive.SettingPublisher, pub); err != nil {
		return 0, err
	}
	return len(c.Sessions) + len(c.Gone), nil
}

// restorePublisher puts the checkpointed publisher back if none is live and
// its token has not expired.
func (s *Service) restorePublisher(ctx context.Context) error {
	raw, err := s.Stages.Setting(ctx, ivslive.SettingPublisher)
	if ivslive.ErrorCode(err) == ivslive.ENOTFOUND || (err == nil && raw == "") {
		return nil
	}
	if err != nil {
		return err
	}
	var p ivslive.Publisher
	if err := json.Unmarshal([]byte(raw), &p); err != nil || !s.now().Before(p.ExpiresAt) {
		return nil
	}
	if _, err := s.Presence.Publisher(ctx); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		return err // live already (or unreachable)
	}
	s.Log.Info("restored the publisher from the checkpoint", "participant", p.ParticipantID, "until", p.ExpiresAt)
	return s.Presence.SetPublisher(ctx, p)
}

// RestorePresence brings live sessions back from the newest checkpoint when
// presence was lost. Sessions recorded as closed since are not restored;
// restored sessions whose viewers are gone expire as usual, closing at their
// last heartbeat: exact for those silent at the checkpoint, and no later
// than the real one (by at most Config.QuietAfter) for the others, which an
// incremental checkpoint does not rewrite at every heartbeat.
func (s *Service) RestorePresence(ctx context.Context) (int, error) {
	start := s.now() // the restore's duration, logged for load tests
	if err := s.restorePublisher(ctx); err != nil {
		return 0, err
	}
	c, err := s.History.LoadCheckpoint(ctx)
	if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
		s.Log.Info("no live sessions to restore: no checkpoint, or an empty one")
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := s.restoreSessions(ctx, c.Sessions)
	if err != nil {
		return n, err
	}
	// What was restored is stored already (and what was not, the store
	// tracks as gone): the next checkpoint writes only the changes, even
	// at a million viewers right after a restart.
	_, s.checkpointed = s.Presence.(ivslive.ChangeTracker)
	s.Log.Info("restored live sessions from the checkpoint", "restored", n, "inCheckpoint", len(c.Sessions), "takenAt", c.TakenAt, "took", s.now().Sub(start))
	return n, nil
}

// EnsurePresence notices that the presence store lost its state (Redis
// restarted without persistence) and rebuilds it: the stages from the stage
// store, the sessions from the checkpoint. It is cheap when nothing is lost.
// The leader's jobs (sweeper, scaler, snapshotter) call it before they read
// presence.
func (s *Service) EnsurePresence(ctx context.Context) error {
	s.restoreMu.Lock()
	defer s.restoreMu.Unlock()
	return s.ensurePresence(ctx)
}

func (s *Service) ensurePresence(ctx context.Context) error {
	intact, err := s.Presence.Intact(ctx)
	if err != nil || intact {
		return err
	}
	s.Log.Warn("the presence store lost its state: registering stages and restoring sessions from the checkpoint")
	if err := s.registerStages(ctx); err != nil {
		return err
	}
	if _, err = s.RestorePresence(ctx); err != nil {
		return err
	}
	// Only now: a rebuild cut short is started again on the next pass
	// (both steps are idempotent).
	return s.Presence.MarkIntact(ctx)
}

// DeadLetters returns one page of the records the history store refused
// for their content, newest first.
func (s *Service) DeadLetters(ctx context.Context, after string, limit int) ([]ivslive.DeadLetter, string, int, error) {
	page, next, total, err := s.History.FindDeadLetters(ctx, ivslive.DeadLetterFilter{After: after, Limit: limit})
	if err != nil {
		return nil, "", 0, historyUnavailable(err)
	}
	return page, next, total, nil
}

// DeadLettered hears of records the history store newly refused and kept
// as dead letters: it logs and counts them and publishes them on the bus
// and to the webhooks (one event each, or one summary beyond
// maxExpiryEvents, so a flood of bad records cannot flood the subscribers).
// The history twins call it, from the writer that refused them, so no
// request's context applies.
func (s *Service) DeadLettered(letters []ivslive.DeadLetter) {
	if len(letters) == 0 {
		return
	}
	ctx := context.Background()
	s.Log.Warn("closed-session records refused by the history store were kept as dead letters",
		"count", len(letters), "source", letters[0].Source, "session", letters[0].SessionID, "err", letters[0].Error)
	s.observer().DeadLettered(len(letters))
	if len(letters) > maxExpiryEvents {
		s.emit(ctx, ivslive.Event{Type: ivslive.EventHistoryDeadLettered, Count: len(letters), Reason: letters[0].Error})
		return
	}
	for _, l := range letters {
		s.emit(ctx, ivslive.Event{Type: ivslive.EventHistoryDeadLettered, SessionID: l.SessionID, Count: 1, Reason: l.Error})
	}
}
