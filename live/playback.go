package live

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// Viewer modes: a real-time seat on a stage (under 300 ms, can be promoted
// to publish) or the channel's HLS playback (a few seconds, any number).
const (
	ModeRealtime = "realtime"
	ModePlayback = "playback"
)

// Playback is the audience past real-time seats: the stage's server-side
// composition into an IVS low-latency channel, and the viewers who watch the
// channel's playback URL. Its viewers live in their own presence store (the
// channel is their one "stage"), so real-time loads, the subscriptions quota
// and the scaler never count them, while heartbeats, expiry and history
// work as for real-time viewers.
type Playback struct {
	Broadcast ivslive.Broadcast
	// Presence holds playback viewers; its closed sessions reach the same
	// history as real-time ones, with the channel ARN as their stage.
	Presence ivslive.PresenceStore
	// Tokens signs playback tokens; required when Private.
	Tokens ivslive.PlaybackTokenIssuer
	// ChannelARN adopts this channel; "" adopts the channel tagged as
	// ivslive's, or creates one.
	ChannelARN string
	// Private makes a created channel need playback tokens.
	Private bool
	// TokenTTL is a playback token's lifetime.
	TokenTTL time.Duration
	// WarmAt is the real-time viewer count at which the composition starts,
	// so it is live before the seats run out; 0 starts it only when the
	// first viewer is sent to playback.
	WarmAt int
	// EncoderConfigurationARN is the composition's output; "" is IVS's.
	EncoderConfigurationARN string

	mu          sync.Mutex
	channel     ivslive.Channel
	composition string    // ARN of the running composition, "" for none
	startedAt   time.Time // when this process started or adopted it
	checkedAt   time.Time // when IVS last said it runs
	blocker     string    // why the last start failed
}

// PlaybackStatus is what /api/stats shows of the playback side.
type PlaybackStatus struct {
	ChannelARN     string `json:"channelArn,omitempty"`
	PlaybackURL    string `json:"playbackUrl,omitempty"`
	Private        bool   `json:"private"`
	CompositionARN string `json:"compositionArn,omitempty"`
	Viewers        int    `json:"viewers"`
	// Blocker is why the composition could not start (IVS's words).
	Blocker string `json:"blocker,omitempty"`
}

// channel returns the broadcast's channel: adopted by ARN or by tag, or
// created (low-latency, private when configured). One per process, cached.
func (s *Service) playbackChannel(ctx context.Context) (ivslive.Channel, error) {
	p := s.Playback
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.channel.ARN != "" {
		return p.channel, nil
	}
	var ch ivslive.Channel
	var err error
	tags := map[string]string{TagManagedBy: ManagedByValue, "Audience": "playback"}
	if p.ChannelARN != "" {
		ch, err = p.Broadcast.GetChannel(ctx, p.ChannelARN)
	} else {
		var found []ivslive.Channel
		found, err = p.Broadcast.ListChannels(ctx, tags)
		switch {
		case err != nil:
		case len(found) > 0:
			ch = found[0]
		default:
			if s.Config.Environment != "" {
				tags[TagEnvironment] = s.Config.Environment
			}
			ch, err = p.Broadcast.CreateChannel(ctx, ivslive.CreateChannelInput{
				Name: s.Config.StageNamePrefix + "audience", Authorized: p.Private, Tags: tags})
		}
	}
	if err != nil {
		return ivslive.Channel{}, err
	}
	if ch.Authorized && p.Tokens == nil {
		return ivslive.Channel{}, ivslive.Errorf(ivslive.EINTERNAL, "the playback channel is private but no playback key is configured")
	}
	if err := p.Presence.PutStage(ctx, ch.ARN, ivslive.StageNamed); err != nil {
		return ivslive.Channel{}, err
	}
	p.channel = ch
	s.Log.Info("playback channel ready", "channel", ch.ARN, "private", ch.Authorized)
	return ch, nil
}

// EnsureComposition starts the composition of the master stage into the
// channel unless one runs. A refusal (IVS's 5 compositions per stage, or 20
// per Region) is kept as the blocker and returned in IVS's words, so the
// viewer sent to playback and /api/stats say why.
func (s *Service) EnsureComposition(ctx context.Context) error {
	ch, err := s.playbackChannel(ctx)
	if err != nil {
		return err
	}
	p := s.Playback
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.composition != "" {
		// Every viewer sent to playback passes here: asking IVS each time
		// would spend its API quota (a few calls per second) on the
		// audience. A composition seen running recently is trusted; its end
		// comes as an event (observeComposition), and the scaler's rounds
		// look again.
		if s.now().Sub(p.checkedAt) < compositionRecheck {
			return nil
		}
		c, err := p.Broadcast.GetComposition(ctx, p.composition)
		if err == nil && (c.State == ivslive.CompositionStarting || c.State == ivslive.CompositionActive) {
			p.checkedAt = s.now()
			return nil
		}
		p.composition = ""
	}
	master := s.MasterARN()
	running, err := p.Broadcast.ListCompositions(ctx, master)
	if err != nil {
		return err
	}
	for _, c := range running {
		if c.State != ivslive.CompositionStarting && c.State != ivslive.CompositionActive {
			continue
		}
		// A summary names no channel; the composition itself does.
		if c, err = p.Broadcast.GetComposition(ctx, c.ARN); err == nil && toChannel(c, ch.ARN) {
			p.composition, p.blocker, p.startedAt, p.checkedAt = c.ARN, "", s.now(), s.now()
			return nil
		}
	}
	c, err := p.Broadcast.StartComposition(ctx, ivslive.StartCompositionInput{
		StageARN: master, ChannelARN: ch.ARN, EncoderConfigurationARN: p.EncoderConfigurationARN,
		Tags: map[string]string{TagManagedBy: ManagedByValue},
	})
	if err != nil {
		p.blocker = ivslive.ErrorMessage(err)
		s.Log.Warn("composition not started", "stage", master, "channel", ch.ARN, "err", err)
		return err
	}
	p.composition, p.blocker, p.startedAt, p.checkedAt = c.ARN, "", s.now(), s.now()
	s.Log.Info("composition started", "composition", c.ARN, "stage", master, "channel", ch.ARN)
	return nil
}

func toChannel(c ivslive.Composition, channelARN string) bool {
	for _, d := range c.Destinations {
		if d.ChannelARN == channelARN {
			return true
		}
	}
	return false
}

// StopPlayback stops the composition and, when the broadcast ended, closes
// every playback session (their history records say stage_deleted: the
// channel's content is gone).
func (s *Service) StopPlayback(ctx context.Context, endSessions bool) error {
	p := s.Playback
	p.mu.Lock()
	arn, ch := p.composition, p.channel.ARN
	p.composition = ""
	p.mu.Unlock()
	if arn != "" {
		if err := p.Broadcast.StopComposition(ctx, arn); err != nil && ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
			return err
		}
		s.Log.Info("composition stopped", "composition", arn)
	}
	if !endSessions || ch == "" {
		return nil
	}
	closed, err := p.Presence.RemoveStage(ctx, ch, s.now())
	if err != nil {
		return err
	}
	s.emitClosed(ctx, closed, ivslive.EndStageDeleted)
	p.mu.Lock()
	p.channel = ivslive.Channel{} // PutStage again on the next viewer
	p.mu.Unlock()
	return nil
}

// keepPlayback is the scaler's round for the playback side: start the
// composition once real-time viewers reach WarmAt, keep it while playback
// viewers remain, stop it after, and end everything with the broadcast.
func (s *Service) keepPlayback(ctx context.Context, realtime int, live bool) error {
	if s.Playback == nil {
		return nil
	}
	if !live {
		return s.StopPlayback(ctx, true)
	}
	watching, err := s.playbackViewers(ctx)
	if err != nil {
		return err
	}
	p := s.Playback
	if watching > 0 || (p.WarmAt > 0 && realtime >= p.WarmAt) {
		return s.EnsureComposition(ctx)
	}
	p.mu.Lock()
	young := p.composition != "" && s.now().Sub(p.startedAt) < compositionLinger
	p.mu.Unlock()
	if young {
		return nil
	}
	return s.StopPlayback(ctx, false)
}

// compositionLinger keeps a composition without playback viewers this long
// after it started: the viewer it was started for may not be seated yet (the
// scaler would stop it under them), and an audience that comes and goes
// does not flap it (a start takes IVS seconds; a stop leaves the channel
// busy until it is STOPPED).
const compositionLinger = 2 * time.Minute

// compositionRecheck is how long a composition IVS said runs is trusted
// before a viewer sent to playback makes ivslive ask again.
const compositionRecheck = 10 * time.Second

// playbackViewers counts the live playback sessions.
func (s *Service) playbackViewers(ctx context.Context) (int, error) {
	if s.Playback == nil {
		return 0, nil
	}
	loads, err := s.Playback.Presence.Loads(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range loads {
		n += l.Viewers
	}
	return n, nil
}

// PlaybackStatus returns the playback side's state (zero when it is off).
func (s *Service) PlaybackStatus(ctx context.Context) (PlaybackStatus, error) {
	if s.Playback == nil {
		return PlaybackStatus{}, nil
	}
	n, err := s.playbackViewers(ctx)
	p := s.Playback
	p.mu.Lock()
	defer p.mu.Unlock()
	return PlaybackStatus{ChannelARN: p.channel.ARN, PlaybackURL: p.channel.PlaybackURL, Private: p.channel.Authorized,
		CompositionARN: p.composition, Viewers: n, Blocker: p.blocker}, err
}

// playbackViewer seats a viewer on the channel: the composition must run
// (a refusal is the answer, with IVS's reason), then a playback session
// starts and, for a private channel, a playback token is signed.
func (s *Service) playbackViewer(ctx context.Context, r ViewerRequest, full error) (ViewerGrant, error) {
	if err := s.EnsureComposition(ctx); err != nil {
		if full == nil {
			return ViewerGrant{}, err
		}
		return ViewerGrant{}, ivslive.ReasonError(ivslive.ESTAGEFULL, ivslive.RCompositionRefused, err).WithCause(err).
			WithDetails(map[string]any{"reason": "composition_refused", "ivs": ivslive.ErrorMessage(err)})
	}
	pub, err := s.Presence.Publisher(ctx)
	if err != nil {
		return ViewerGrant{}, err
	}
	ch, err := s.playbackChannel(ctx)
	if err != nil {
		return ViewerGrant{}, err
	}
	p := s.Playback
	res, err := p.Presence.Join(ctx, ivslive.JoinRequest{
		UserID: r.UserID, StageARN: ch.ARN, SessionID: newSessionID(), ParticipantID: "playback",
		UserAgent: userAgent(r.UserAgent), IP: ipText(r.IP), Now: s.now(), Threshold: math.MaxInt32, Capacity: math.MaxInt32,
	})
	if err != nil {
		return ViewerGrant{}, err
	}
	g := ViewerGrant{Mode: ModePlayback, PlaybackURL: ch.PlaybackURL, Session: res.Session, Viewers: res.Viewers, New: res.New, Publisher: pub}
	if ch.Authorized {
		g.PlaybackToken, g.PlaybackExpires, err = p.Tokens.PlaybackToken(ctx, ivslive.PlaybackTokenRequest{ChannelARN: ch.ARN, Duration: p.TokenTTL})
		if err != nil {
			if res.New {
				_ = p.Presence.Release(context.WithoutCancel(ctx), ch.ARN, r.UserID, res.Session.ID)
			}
			return ViewerGrant{}, err
		}
	}
	if res.New {
		s.observer().SessionOpened()
		s.emit(ctx, ivslive.Event{Type: ivslive.EventViewerJoined, StageARN: ch.ARN, UserID: r.UserID, SessionID: res.Session.ID, Viewers: count(res.Viewers)})
	}
	return g, nil
}

// presenceFor is the store that holds a session: the playback store for
// the channel's ARN, the real-time one for stages.
func (s *Service) presenceFor(arn string) ivslive.PresenceStore {
	if s.Playback != nil && ivslive.ValidChannelARN(arn) {
		return s.Playback.Presence
	}
	return s.Presence
}

// observeComposition forgets the running composition when IVS says it ended
// or failed (a failure's code becomes the blocker), so the next viewer or
// scaler round starts another instead of sending viewers to a dead channel.
func (s *Service) observeComposition(ev ivslive.IVSEvent) {
	p := s.Playback
	if p == nil || (ev.Name != ivslive.IVSEventCompositionEnd && ev.Name != ivslive.IVSEventCompositionFailure) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.composition != ev.CompositionARN {
		return
	}
	p.composition = ""
	if ev.Name == ivslive.IVSEventCompositionFailure {
		p.blocker = "composition failed: " + ev.ErrorCode
	}
	s.Log.Info("composition ended", "composition", ev.CompositionARN, "event", ev.Name, "error", ev.ErrorCode)
	s.nudge()
}
