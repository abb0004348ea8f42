package ivslive

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// StageState is where a managed stage is in its life cycle.
type StageState string

// Stage states. Viewers are assigned only to active stages; a draining stage
// keeps the viewers it has until it is empty or its drain deadline passes.
const (
	StageActive   StageState = "active"
	StageDraining StageState = "draining"
	StageDeleted  StageState = "deleted"
)

// Seating states, which exist only in the presence store (the stage store
// keeps active): a stage is seated automatically only where the host's
// media is, the master and auto-scaled stages whose replication IVS reports
// ACTIVE.
const (
	// StageNamed is a stage made by hand: seated only when a request names
	// it, since nothing replicates the host into it.
	StageNamed StageState = "named"
	// StageNoHost is an auto-scaled stage whose replication IVS does not
	// report ACTIVE: it takes no new viewers and keeps the ones it has.
	StageNoHost StageState = "nohost"
)

// StageEndpoints are the per-stage URLs IVS returns at CreateStage/GetStage.
// They go into self-signed tokens (events_url, whip_url) and may be cached.
type StageEndpoints struct {
	Events string `json:"events,omitempty"`
	WHIP   string `json:"whip,omitempty"`
	RTMP   string `json:"rtmp,omitempty"`
	RTMPS  string `json:"rtmps,omitempty"`
}

// RecordingConfig is the subset of IVS's autoParticipantRecordingConfiguration
// that the API echoes back.
type RecordingConfig struct {
	StorageConfigurationARN         string   `json:"storageConfigurationArn"`
	MediaTypes                      []string `json:"mediaTypes,omitempty"`
	RecordingReconnectWindowSeconds int32    `json:"recordingReconnectWindowSeconds,omitempty"`
	RecordParticipantReplicas       bool     `json:"recordParticipantReplicas,omitempty"`
}

// Stage is an IVS Real-Time stage together with what ivslive knows about it.
type Stage struct {
	ARN             string
	Name            string
	ActiveSessionID string
	Tags            map[string]string
	Endpoints       StageEndpoints
	Recording       *RecordingConfig

	// Managed-stage facts, kept in the stage store.
	Master        bool
	AutoScaled    bool
	State         StageState
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DrainingSince time.Time
	Replication   *Replication
	// HostMedia is true when the host's media reaches the stage: the master
	// while IVS reports the host publishing, an auto-scaled stage while its
	// replication is ACTIVE. Not stored: read from the seating state.
	HostMedia bool
}

// ID returns the stage's resource id, the last segment of its ARN.
func (s Stage) ID() string { return StageID(s.ARN) }

// Replication is a participant replication from a source stage into a
// destination stage (IVS StartParticipantReplication).
type Replication struct {
	SourceStageARN      string
	DestinationStageARN string
	ParticipantID       string
	StartedAt           time.Time
}

// StageFilter selects managed stages from a StageStore. Stages are ordered by
// creation time, then ARN; After is an opaque cursor from a previous page.
type StageFilter struct {
	IncludeDeleted bool
	After          string
	Limit          int
}

// StageStore keeps the managed stages durably, so stage state never depends on
// keys that expire, plus a few named settings (the master stage ARN, the
// imported public key ARN). Implemented by sqlite and postgres.
type StageStore interface {
	// SaveStage inserts or replaces a stage by ARN.
	SaveStage(ctx context.Context, s Stage) error
	// CreateStage inserts a new stage unless limit stages that are not
	// deleted exist already (ESTAGELIMIT), in one atomic step: concurrent
	// creates, from any number of instances, never exceed limit. An ARN
	// already recorded is ECONFLICT.
	CreateStage(ctx context.Context, s Stage, limit int) error
	// FindStageByARN returns ENOTFOUND when the stage is unknown.
	FindStageByARN(ctx context.Context, arn string) (Stage, error)
	// FindStages returns one page of stages and the cursor of the next page
	// ("" when there is none), and the total number of stages the filter matches.
	FindStages(ctx context.Context, f StageFilter) (stages []Stage, next string, total int, err error)
	// Setting returns the value of a named setting, or ENOTFOUND.
	Setting(ctx context.Context, key string) (string, error)
	// SetSetting stores a named setting.
	SetSetting(ctx context.Context, key, value string) error
	// InitSetting stores a named setting only if it is not set yet, and
	// returns the value that is set (value, or the one that was there).
	InitSetting(ctx context.Context, key, value string) (string, error)
}

// Setting keys used in a StageStore.
const (
	SettingMasterStageARN = "master_stage_arn"
	SettingPublicKeyARN   = "public_key_arn"
	// SettingIVSIdentity names the IVS the stages live in (the first
	// instance's); an instance on another IVS refuses to start.
	SettingIVSIdentity = "ivs_identity"
	// SettingPublisher holds the live publisher at the last checkpoint
	// (JSON), so a presence store that lost its state gets the broadcast
	// back with its viewers.
	SettingPublisher = "checkpoint_publisher"
	// SettingEndedParticipants holds the participants of the broadcast the
	// publisher end route ended, so neither a late event nor the reconciler
	// brings it back while that encoder still sends.
	SettingEndedParticipants = "ended_participants"
)

var stageNameRE = regexp.MustCompile(`^[a-zA-Z0-9-_]*$`)

// ValidStageARN reports whether arn matches the IVS stage ARN pattern,
// ^arn:aws:ivs:[a-z0-9-]+:[0-9]+:stage/[a-zA-Z0-9-]+$, and length (1–128).
// It is written out rather than a regexp because every heartbeat checks it;
// FuzzStageARN holds it to the pattern.
func ValidStageARN(arn string) bool { return validARN(arn, "stage/") }

// validARN checks an IVS ARN of one resource type ("stage/", "channel/").
func validARN(arn, kind string) bool {
	rest, ok := strings.CutPrefix(arn, "arn:aws:ivs:")
	if !ok || len(arn) > 128 {
		return false
	}
	region, rest, ok := strings.Cut(rest, ":")
	if !ok || !allBytes(region, isRegionByte) {
		return false
	}
	account, rest, ok := strings.Cut(rest, ":")
	if !ok || !allBytes(account, isDigit) {
		return false
	}
	id, ok := strings.CutPrefix(rest, kind)
	return ok && allBytes(id, isIDByte)
}

// allBytes reports whether s is non-empty and every byte satisfies f.
func allBytes(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isRegionByte(c byte) bool { return 'a' <= c && c <= 'z' || isDigit(c) || c == '-' }
func isIDByte(c byte) bool     { return isRegionByte(c) || 'A' <= c && c <= 'Z' }

// ValidStageName reports whether name is a valid IVS stage name (0–128 of
// [a-zA-Z0-9-_]).
func ValidStageName(name string) bool {
	return len(name) <= 128 && stageNameRE.MatchString(name)
}

// StageID returns the last path segment of a stage ARN.
func StageID(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
