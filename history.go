package ivslive

import (
	"context"
	"time"
)

// SessionFilter selects closed sessions from history, newest first. After is
// an opaque cursor from a previous page.
type SessionFilter struct {
	UserID string
	After  string
	Limit  int
}

// SessionStats summarises the sessions of one stage that began since a time.
type SessionStats struct {
	TotalViews        int
	UniqueViewers     int
	AvgWatchSeconds   int
	MaxWatchSeconds   int
	TotalWatchSeconds int64
}

// Snapshot is one stage's live viewer count at a moment. The pool's total is
// stored as a snapshot of the stage TotalStageARN.
type Snapshot struct {
	StageARN string
	Time     time.Time
	Viewers  int
}

// TotalStageARN names the pool-wide total in snapshots.
const TotalStageARN = "*"

// SnapshotBucket aggregates the snapshots of one time bucket.
type SnapshotBucket struct {
	Start       time.Time
	AvgViewers  float64
	PeakViewers int
}

// Checkpoint is a copy of the live sessions, taken every few minutes and at
// shutdown, from which presence is restored when it was lost (a Redis
// restart without persistence, an embedded-mode restart).
//
// A full checkpoint (Incremental false) replaces what is stored with
// Sessions. An incremental one changes only what changed since the previous
// one, so its cost follows the joins and leaves, not the audience: it removes
// the sessions named in Gone, then stores Sessions over what is there.
type Checkpoint struct {
	TakenAt     time.Time
	Sessions    []ViewerSession
	Gone        []string
	Incremental bool
	// SeenSince, for an incremental checkpoint, is when every stored
	// session it does not write was last heard from, at the latest: their
	// stored last-seen is not rewritten at every heartbeat, so
	// LoadCheckpoint raises it to SeenSince. The sessions it writes (new,
	// or silent since before SeenSince) keep their exact last-seen.
	SeenSince time.Time
}

// CheckpointMetaID is the id of the row an incremental checkpoint keeps
// its TakenAt and SeenSince in, beside the sessions (no session id has a
// '~'); the history twins never return it as a session.
const CheckpointMetaID = "~checkpoint"

// PresenceChanges is what changed in presence since the previous call of
// ChangeTracker.Changes.
type PresenceChanges struct {
	// Upsert holds the sessions new since then, and the sessions already
	// saved but silent since the quiet time (their exact last-seen is
	// worth writing: they are about to expire).
	Upsert []ViewerSession
	// Gone holds the ids of saved sessions that have ended since.
	Gone []string
	// Full is set when Upsert holds every live session: asked for, or
	// the changes were too many to track.
	Full bool
}

// ChangeTracker is implemented by presence stores that can tell what
// changed since the last checkpoint, so the checkpoint writes only that
// (both twins: memory and Redis).
type ChangeTracker interface {
	// Changes returns and forgets the changes since the previous call.
	// With all set it returns every live session instead (for a full
	// checkpoint) and tracks changes from there. It answers Full by
	// itself when it cannot tell what changed since the caller's previous
	// call (its lists overflowed; in Redis, another instance took the
	// changes, or Redis lost them). Gone may name sessions no checkpoint
	// saved, and Upsert sessions saved already: both are harmless.
	Changes(ctx context.Context, quietBefore time.Time, all bool) (PresenceChanges, error)
}

// Cleaned returns c without the sessions that cannot be stored (see
// ViewerSession.Check; they would fail the whole checkpoint, and their
// record is dead-lettered when they close) and with safe free text, and
// how many it left out.
func (c Checkpoint) Cleaned() (Checkpoint, int) {
	kept := make([]ViewerSession, 0, len(c.Sessions))
	for _, s := range c.Sessions {
		if s.Check() == nil {
			kept = append(kept, s.Cleaned())
		}
	}
	dropped := len(c.Sessions) - len(kept)
	c.Sessions = kept
	return c, dropped
}

// HistoryStore keeps what happened: one record per closed viewer session,
// stats snapshots and presence checkpoints. Implemented by sqlite and
// postgres.
type HistoryStore interface {
	// RecordSessions (SessionSink) writes what it can of a batch: a record
	// refused for its content goes to the dead letters instead, so only an
	// outage (EUNAVAILABLE) fails the call.
	SessionSink
	// DeadLetters keeps the records RecordSessions refused.
	DeadLetters
	// FindSessions returns one page of a user's closed sessions, newest
	// first, the cursor of the next page, and how many there are in all.
	FindSessions(ctx context.Context, f SessionFilter) ([]ClosedSession, string, int, error)
	// StageSessionStats summarises the sessions on a stage joined since t.
	StageSessionStats(ctx context.Context, stageARN string, since time.Time) (SessionStats, error)

	// SaveSnapshots stores viewer counts.
	SaveSnapshots(ctx context.Context, snaps []Snapshot) error
	// SnapshotSeries aggregates a stage's snapshots in [since, until) into
	// buckets of the given width, oldest first; empty buckets are left out.
	SnapshotSeries(ctx context.Context, stageARN string, since, until time.Time, bucket time.Duration) ([]SnapshotBucket, error)
	// PeakViewers is the largest snapshot of a stage in [since, until).
	PeakViewers(ctx context.Context, stageARN string, since, until time.Time) (int, error)

	// DeleteSnapshotsBefore and DeleteSessionsBefore enforce retention and
	// return how many rows went.
	DeleteSnapshotsBefore(ctx context.Context, t time.Time) (int64, error)
	DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error)

	// SaveCheckpoint replaces the stored checkpoint, or applies an
	// incremental one to it (in bounded batches, so other writers are not
	// held up by a large one).
	SaveCheckpoint(ctx context.Context, c Checkpoint) error
	// LoadCheckpoint returns the stored checkpoint without the sessions that
	// have been recorded as closed since (ENOTFOUND when there is none).
	LoadCheckpoint(ctx context.Context) (Checkpoint, error)

	// Ping checks the store answers.
	Ping(ctx context.Context) error
}
