package live

import (
	"context"
	"strings"
	"time"

	"github.com/ivslive/ivslive"
)

// Prefixes the Node server puts before user ids in tokens; kept so clients
// that parse them keep working.
const (
	publisherPrefix   = "broadcaster-"
	viewerPrefix      = "viewer-"
	mediaServerPrefix = "media-server-"
	maxIDLength       = ivslive.MaxTokenUserID - len(mediaServerPrefix)
)

// PublisherToken issues a PUBLISH token on the master stage and marks the
// publisher live: until the token expires while IVS has not reported the
// host's media, then for as long as the host publishes (see Publisher).
func (s *Service) PublisherToken(ctx context.Context, userID string) (ivslive.Token, ivslive.Stage, error) {
	if err := validateID("userId", userID); err != nil {
		return ivslive.Token{}, ivslive.Stage{}, err
	}
	master, err := s.stage(ctx, s.MasterARN())
	if err != nil {
		return ivslive.Token{}, ivslive.Stage{}, err
	}
	now := s.now()
	tok, err := s.Tokens.IssueToken(ctx, ivslive.TokenRequest{
		Stage:        master,
		UserID:       publisherPrefix + userID,
		Capabilities: []ivslive.Capability{ivslive.Publish},
		Duration:     s.Config.PublisherTokenTTL,
		Attributes:   map[string]string{"role": "publisher", "timestamp": isoTime(now)},
	})
	if err != nil {
		return ivslive.Token{}, ivslive.Stage{}, err
	}
	pub := ivslive.Publisher{UserID: userID, ParticipantID: tok.ParticipantID, StageARN: master.ARN, JoinedAt: now, ExpiresAt: tok.ExpiresAt}
	if err := s.setPublisherToken(ctx, pub); err != nil {
		return ivslive.Token{}, ivslive.Stage{}, err
	}
	s.Log.Info("publisher live", "user", userID, "participant", tok.ParticipantID, "until", tok.ExpiresAt)
	s.observer().TokenIssued("publisher", s.Tokens.Strategy())
	s.emit(ctx, ivslive.Event{Type: ivslive.EventPublisherLive, StageARN: master.ARN, UserID: userID, ParticipantID: tok.ParticipantID})
	s.nudge() // replications must follow the new participant id
	return tok, master, nil
}

// setPublisherToken records the publisher of a new token. What IVS reported
// about the host stays: an encoder still sending with an older token keeps
// the broadcast live, and its replications, until the new one publishes.
func (s *Service) setPublisherToken(ctx context.Context, pub ivslive.Publisher) error {
	s.hostMu.Lock()
	defer s.hostMu.Unlock()
	old, err := s.Presence.Publisher(ctx)
	switch ivslive.ErrorCode(err) {
	case "":
		pub.Publishing, pub.PublishingID, pub.StateAt = old.Publishing, old.PublishingID, old.StateAt
		if old.Publishing {
			pub.ExpiresAt = later(pub.ExpiresAt, old.ExpiresAt)
		}
	case ivslive.ENOTFOUND:
	default:
		return err
	}
	return s.Presence.SetPublisher(ctx, pub)
}

// EndPublisher ends the broadcast: viewers can no longer get tokens. When
// participantID is set, it must be the live publisher's. With disconnect, the
// publisher is also disconnected from the stage in IVS. The ended
// participants are remembered, so an encoder that keeps sending does not
// bring the broadcast back; a new publisher token does.
func (s *Service) EndPublisher(ctx context.Context, participantID string, disconnect bool) (ivslive.Publisher, error) {
	pub, err := s.endPublisher(ctx, participantID)
	if err != nil {
		return ivslive.Publisher{}, err
	}
	if disconnect {
		if err := s.IVS.DisconnectParticipant(ctx, pub.StageARN, pub.Source(), "broadcast ended"); err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
			return pub, err
		}
	}
	s.Log.Info("publisher ended", "user", pub.UserID, "participant", pub.ParticipantID)
	s.emit(ctx, ivslive.Event{Type: ivslive.EventPublisherEnded, StageARN: pub.StageARN, UserID: pub.UserID, ParticipantID: pub.ParticipantID})
	s.nudge()
	return pub, nil
}

func (s *Service) endPublisher(ctx context.Context, participantID string) (ivslive.Publisher, error) {
	s.hostMu.Lock()
	defer s.hostMu.Unlock()
	pub, err := s.Presence.Publisher(ctx)
	if err != nil {
		return ivslive.Publisher{}, err
	}
	if participantID != "" && participantID != pub.ParticipantID && participantID != pub.PublishingID {
		return ivslive.Publisher{}, ivslive.NotFound(ivslive.RPublisher)
	}
	if err := s.Stages.SetSetting(ctx, ivslive.SettingEndedParticipants, strings.TrimSpace(pub.ParticipantID+" "+pub.PublishingID)); err != nil {
		return ivslive.Publisher{}, err
	}
	return pub, s.Presence.ClearPublisher(ctx, pub.ParticipantID)
}

// MediaServerToken issues a PUBLISH+SUBSCRIBE token for a relay or
// compositing server on any stage IVS knows.
func (s *Service) MediaServerToken(ctx context.Context, serverID, stageARN string) (ivslive.Token, error) {
	if err := validateID("serverId", serverID); err != nil {
		return ivslive.Token{}, err
	}
	if !ivslive.ValidStageARN(stageARN) {
		return ivslive.Token{}, ivslive.Errorf(ivslive.EVALIDATION, "stageArn is not a valid IVS stage ARN")
	}
	st, err := s.stage(ctx, stageARN)
	if err != nil {
		return ivslive.Token{}, err
	}
	tok, err := s.Tokens.IssueToken(ctx, ivslive.TokenRequest{
		Stage:        st,
		UserID:       mediaServerPrefix + serverID,
		Capabilities: []ivslive.Capability{ivslive.Publish, ivslive.Subscribe},
		Duration:     s.Config.MediaServerTokenTTL,
		Attributes:   map[string]string{"role": "media-server", "serverId": serverID, "timestamp": isoTime(s.now())},
	})
	if err == nil {
		s.observer().TokenIssued("mediaserver", s.Tokens.Strategy())
	}
	return tok, err
}

// PublisherInfo returns the live publisher, or ENOTFOUND.
func (s *Service) PublisherInfo(ctx context.Context) (ivslive.Publisher, error) {
	return s.Presence.Publisher(ctx)
}

// validateID is the one rule for the identifiers clients choose (userId,
// serverId, participantId): at most maxIDLength bytes (they go into tokens
// behind a prefix), valid UTF-8 and no control characters (they reach the
// history store, which must never be handed a record it refuses).
func validateID(field, id string) error {
	return ivslive.CheckID(field, id, maxIDLength)
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
