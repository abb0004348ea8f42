package ivslive

import (
	"context"
	"time"
)

// Channel is an IVS low-latency channel: where a server-side composition of
// a stage is broadcast, for audiences past what real-time seats hold (a
// stage takes 10,000 subscribers; a channel's playback URL any number, at a
// few seconds of latency instead of under 300 ms).
type Channel struct {
	ARN            string
	Name           string
	PlaybackURL    string // the HLS playlist viewers play
	IngestEndpoint string
	Type           string // BASIC, STANDARD, ADVANCED_SD, ADVANCED_HD
	LatencyMode    string // LOW or NORMAL
	// Authorized is a private channel: playback needs a token signed with a
	// playback key pair whose public half was imported into IVS.
	Authorized bool
	Tags       map[string]string
}

// CreateChannelInput is what ivslive asks IVS for: a low-latency channel,
// private when Authorized.
type CreateChannelInput struct {
	Name       string
	Type       string // "" is IVS's default (STANDARD)
	Authorized bool
	Tags       map[string]string
}

// PlaybackKeyPair is a playback key pair as IVS knows it: the public half,
// imported, with which IVS verifies the playback tokens of private channels.
type PlaybackKeyPair struct {
	ARN         string
	Name        string
	Fingerprint string
	Tags        map[string]string
}

// Composition states, as IVS spells them. A composition goes STARTING →
// ACTIVE → STOPPING → STOPPED, or ends FAILED.
const (
	CompositionStarting = "STARTING"
	CompositionActive   = "ACTIVE"
	CompositionStopping = "STOPPING"
	CompositionStopped  = "STOPPED"
	CompositionFailed   = "FAILED"
)

// Composition is a server-side composition of a stage (ivsrealtime): IVS
// subscribes to the stage, composes its publishers and broadcasts the result
// to channels. It is ephemeral: IVS deletes it once stopped.
type Composition struct {
	ARN          string
	StageARN     string
	State        string
	Destinations []CompositionDestination
	Tags         map[string]string
	StartTime    time.Time
	EndTime      time.Time
}

// CompositionDestination is one output of a composition.
type CompositionDestination struct {
	ID         string
	State      string // STARTING, ACTIVE, STOPPING, RECONNECTING, FAILED, STOPPED
	ChannelARN string // "" for a destination that is not a channel
	StartTime  time.Time
	EndTime    time.Time
}

// StartCompositionInput starts a composition of one stage into one channel.
type StartCompositionInput struct {
	StageARN   string
	ChannelARN string
	// EncoderConfigurationARN sets the output video; "" is IVS's default.
	EncoderConfigurationARN string
	// IdempotencyToken makes a retried start return the same composition.
	IdempotencyToken string
	Tags             map[string]string
}

// EncoderConfiguration is the video a composition encodes to a channel.
type EncoderConfiguration struct {
	ARN       string
	Name      string
	Width     int
	Height    int
	Framerate float64
	Bitrate   int // bits per second
	Tags      map[string]string
}

// Broadcast is the IVS side of audiences beyond real-time seats: channels
// and their playback keys (the ivs service) and compositions of a stage into
// a channel (ivsrealtime). The ivs adapter implements it for AWS and the
// emulator; it translates errors into *Error codes and paces calls like IVS.
type Broadcast interface {
	CreateChannel(ctx context.Context, in CreateChannelInput) (Channel, error)
	GetChannel(ctx context.Context, arn string) (Channel, error)
	// ListChannels returns every channel (all pages) whose tags include
	// every pair of tags (nil: every channel).
	ListChannels(ctx context.Context, tags map[string]string) ([]Channel, error)
	DeleteChannel(ctx context.Context, arn string) error
	ImportPlaybackKeyPair(ctx context.Context, name, publicKeyPEM string, tags map[string]string) (PlaybackKeyPair, error)
	GetPlaybackKeyPair(ctx context.Context, arn string) (PlaybackKeyPair, error)

	StartComposition(ctx context.Context, in StartCompositionInput) (Composition, error)
	GetComposition(ctx context.Context, arn string) (Composition, error)
	StopComposition(ctx context.Context, arn string) error
	// ListCompositions returns every composition of a stage ("" for all).
	ListCompositions(ctx context.Context, stageARN string) ([]Composition, error)
	CreateEncoderConfiguration(ctx context.Context, in EncoderConfiguration) (EncoderConfiguration, error)
	GetEncoderConfiguration(ctx context.Context, arn string) (EncoderConfiguration, error)
	DeleteEncoderConfiguration(ctx context.Context, arn string) error
}

// ValidChannelARN reports whether arn matches the IVS channel ARN pattern,
// ^arn:aws:ivs:[a-z0-9-]+:[0-9]+:channel/[a-zA-Z0-9-]+$ (1–128 characters).
func ValidChannelARN(arn string) bool { return validARN(arn, "channel/") }

// PlaybackTokenRequest asks for a playback token for a private channel.
type PlaybackTokenRequest struct {
	ChannelARN string
	// AllowOrigin restricts browser playback to these origins (IVS's
	// aws:access-control-allow-origin, comma separated); "" allows all.
	AllowOrigin string
	// ViewerID names the viewer for IVS's viewer-session revocation
	// (at most 40 characters); "" leaves it out.
	ViewerID string
	Duration time.Duration
}

// PlaybackTokenIssuer signs playback tokens for private channels. The token
// package implements it with the private half of a playback key pair.
type PlaybackTokenIssuer interface {
	PlaybackToken(ctx context.Context, r PlaybackTokenRequest) (token string, expires time.Time, err error)
}
