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
type Checkpoint struct {
	TakenAt  time.Time
	Sessions []ViewerSession
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

	// SaveCheckpoint replaces the stored checkpoint.
	SaveCheckpoint(ctx context.Context, c Checkpoint) error
	// LoadCheckpoint returns the stored checkpoint without the sessions that
	// have been recorded as closed since (ENOTFOUND when there is none).
	LoadCheckpoint(ctx context.Context) (Checkpoint, error)

	// Ping checks the store answers.
	Ping(ctx context.Context) error
}
