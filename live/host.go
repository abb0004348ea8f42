package live

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ivslive/ivslive"
)

// publishingHold is how long a broadcast stays live after IVS last reported
// the host publishing, when nothing says otherwise: IVS ends a publish
// connection after 24 hours. The reconciler renews it on every check and an
// Unpublished event (or the reconciler's own look) cuts it to the grace
// period, so it only matters when every instance is down.
const publishingHold = 24 * time.Hour

// hostObservation is what IVS said about the host at one time: an event
// (Published, Unpublished, Publish Error) or the reconciler's look at the
// master stage.
type hostObservation struct {
	At            time.Time
	ParticipantID string
	UserID        string // without the publisher prefix
	// HostToken is true when the participant's token is a publisher's (its
	// user id has the prefix); otherwise only the recorded publisher's
	// participants count.
	HostToken  bool
	Publishing bool
	Source     string // "event" or "reconciler", for the log
}

// observeHost applies one observation to the recorded publisher. It only
// updates recorded state: older observations than the recorded one are
// ignored, and applying the same one twice changes nothing, so events may
// arrive late, repeated or out of order. An unpublish counts only for the
// participant recorded as publishing: before the host first publishes, the
// publisher token alone keeps the broadcast live, as in the Node server.
// It reports whether the record changed.
func (s *Service) observeHost(ctx context.Context, o hostObservation) (bool, error) {
	s.hostMu.Lock()
	defer s.hostMu.Unlock()
	ended, err := s.endedParticipants(ctx)
	if err != nil {
		return false, err
	}
	if slices.Contains(ended, o.ParticipantID) {
		return false, nil // the end route ended this broadcast
	}
	pub, err := s.Presence.Publisher(ctx)
	found := err == nil
	if err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		return false, err
	}
	if found && o.At.Before(pub.StateAt) {
		return false, nil
	}
	// EventBridge dates events to the second, so a publish and its end
	// often share a time and may arrive in either order. The end wins the
	// tie: a host wrongly held live would keep viewers on a black stage
	// for a day, while one wrongly ended is live again at the next
	// reconciler round, well inside the grace period.
	if found && o.At.Equal(pub.StateAt) && o.Publishing && !pub.Publishing && pub.PublishingID == o.ParticipantID {
		return false, nil
	}
	if !o.HostToken && (!found || o.ParticipantID != pub.ParticipantID && o.ParticipantID != pub.PublishingID) {
		return false, nil // a media server, or a participant we know nothing of
	}
	now := s.now()
	switch {
	case o.Publishing:
		if found && pub.Publishing && pub.PublishingID == o.ParticipantID && pub.ExpiresAt.Sub(now) > publishingHold/2 {
			return false, nil // nothing new, and the hold is far from running out
		}
		if !found {
			pub = ivslive.Publisher{UserID: o.UserID, ParticipantID: o.ParticipantID, StageARN: s.MasterARN(), JoinedAt: o.At}
		}
		pub.Publishing, pub.PublishingID, pub.StateAt = true, o.ParticipantID, o.At
		pub.ExpiresAt = later(pub.ExpiresAt, now.Add(publishingHold))
	case !found || !pub.Publishing || pub.PublishingID != o.ParticipantID:
		return false, nil // not the participant recorded as publishing
	default:
		pub.Publishing, pub.StateAt = false, o.At
		pub.ExpiresAt = o.At.Add(s.Config.PublisherGrace)
	}
	if err := s.Presence.SetPublisher(ctx, pub); err != nil {
		return false, err
	}
	s.Log.Info("host state", "publishing", pub.Publishing, "participant", o.ParticipantID, "at", o.At, "from", o.Source, "liveUntil", pub.ExpiresAt)
	if !found {
		s.emit(ctx, ivslive.Event{Type: ivslive.EventPublisherLive, StageARN: pub.StageARN, UserID: pub.UserID, ParticipantID: o.ParticipantID})
	}
	s.nudge() // replications follow the host
	return true, nil
}

// endedParticipants returns the participants of the broadcast the end route
// ended last.
func (s *Service) endedParticipants(ctx context.Context) ([]string, error) {
	v, err := s.Stages.Setting(ctx, ivslive.SettingEndedParticipants)
	if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return strings.Fields(v), nil
}

// hostUserID returns the user id of a participant token's user id when it is
// a publisher's ("broadcaster-" prefix), and false otherwise.
func hostUserID(tokenUserID string) (string, bool) {
	return strings.CutPrefix(tokenUserID, publisherPrefix)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// followHost announces the end of a broadcast that ended by itself (the
// token expired before the host published, or the grace period after it
// stopped ran out): nothing else notices the moment, so the leader's round
// that first finds no publisher does. An end the end route made was
// announced there.
func (sc *Scaler) followHost(ctx context.Context, pub *ivslive.Publisher) {
	s := sc.Service
	sc.mu.Lock()
	prev := sc.host
	sc.host = nil
	if pub != nil {
		cp := *pub
		sc.host = &cp
	}
	sc.mu.Unlock()
	if pub != nil || prev == nil {
		return
	}
	ended, err := s.endedParticipants(ctx)
	if err != nil || slices.Contains(ended, prev.ParticipantID) {
		return
	}
	s.Log.Info("publisher ended: no longer publishing, or its token expired first", "user", prev.UserID, "participant", prev.ParticipantID)
	s.emit(ctx, ivslive.Event{Type: ivslive.EventPublisherEnded, StageARN: prev.StageARN, UserID: prev.UserID, ParticipantID: prev.ParticipantID})
}
