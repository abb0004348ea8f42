package ivslive

import (
	"context"
	"time"
)

// ViewerSession is one viewer watching one stage, from join to leave. The same
// user on the same stage is one session: joining again or rejoining while the
// session is alive keeps its id and JoinedAt, so watch time never resets.
type ViewerSession struct {
	ID            string
	UserID        string
	StageARN      string
	ParticipantID string
	JoinedAt      time.Time
	LastSeen      time.Time
	UserAgent     string
	IP            string
}

// SessionClaims is what a viewer session token vouches for: one session of
// one user on one stage, until Expires (Unix seconds). The HTTP layer hands
// them out and checks them; the signer that makes the token is an adapter.
type SessionClaims struct {
	SessionID string `json:"sid"`
	UserID    string `json:"uid"`
	StageARN  string `json:"arn"`
	Expires   int64  `json:"exp"`
}

// Mode is how the session watched: "playback" on an IVS channel (its
// StageARN is the channel's ARN), else "realtime" on a stage. It is derived
// from the ARN, so history needs no column of its own.
func (v ViewerSession) Mode() string {
	if ValidChannelARN(v.StageARN) {
		return "playback"
	}
	return "realtime"
}

// EndReason says why a viewer session ended.
type EndReason string

// End reasons, as stored in history.
const (
	EndLeave        EndReason = "leave"
	EndTimeout      EndReason = "timeout"
	EndKicked       EndReason = "kicked"
	EndShutdown     EndReason = "shutdown"
	EndStageDeleted EndReason = "stage_deleted"
	// EndDisconnected: IVS reported the viewer's participant gone (its
	// peer connection closed or was lost), before any leave or timeout.
	EndDisconnected EndReason = "disconnected"
)

// ClosedSession is a session that has ended. For a timeout, LeftAt is the last
// time the viewer was seen, not the time the sweeper noticed.
type ClosedSession struct {
	ViewerSession
	LeftAt time.Time
	Reason EndReason
}

// WatchDuration is how long the viewer watched.
func (c ClosedSession) WatchDuration() time.Duration {
	if c.LeftAt.Before(c.JoinedAt) {
		return 0
	}
	return c.LeftAt.Sub(c.JoinedAt)
}

// SessionSink receives every closed session exactly once: the presence twins
// hand their closed sessions to it, and the history twins implement it.
// RecordSessions must be idempotent by session id, so a retry after a crash
// never creates a second record.
type SessionSink interface {
	RecordSessions(ctx context.Context, sessions []ClosedSession) error
}

// JoinRequest asks the presence store to seat a viewer. With StageARN empty
// the store assigns the least-loaded active stage below Threshold, falling
// back to any active stage below Capacity; a user already watching a stage
// keeps it. The choice and the seat are one atomic step.
type JoinRequest struct {
	UserID        string
	StageARN      string
	SessionID     string // id of the session if a new one is created
	ParticipantID string
	UserAgent     string
	IP            string
	Now           time.Time
	Threshold     int
	Capacity      int
}

// JoinResult is the outcome of a join.
type JoinResult struct {
	Session ViewerSession
	// Viewers is the stage's viewer count right after the join.
	Viewers int
	// New is false when the user already had a live session on the stage.
	New bool
}

// HeartbeatRequest keeps a live session alive. When SessionID is set the
// session must have that id, so a stale client cannot touch a newer session.
type HeartbeatRequest struct {
	StageARN  string
	UserID    string
	SessionID string
	Now       time.Time
}

// LeaveRequest ends a live session.
type LeaveRequest struct {
	StageARN  string
	UserID    string
	SessionID string
	Now       time.Time
	Reason    EndReason
}

// StageLoad is a stage's live viewer count as the presence store sees it.
type StageLoad struct {
	ARN     string
	State   StageState
	Viewers int
}

// Publisher is the live broadcaster. Before IVS reports the host's media it
// is live from a publisher token until the token expires (the Node server's
// rule); once IVS reports it published (an event or the reconciler), it is
// live while it publishes, and until a grace period after it stops: the
// token's expiry alone never ends a broadcast.
type Publisher struct {
	UserID string
	// ParticipantID is the participant of the last publisher token.
	ParticipantID string
	StageARN      string
	JoinedAt      time.Time
	// ExpiresAt is when the broadcast ends unless something extends it.
	ExpiresAt time.Time
	// Publishing is IVS's word, as of StateAt, that the host's media is
	// published on the master stage.
	Publishing bool
	// PublishingID is the participant IVS last reported publishing as the
	// host. It differs from ParticipantID while an encoder still sends with
	// an older token; replications follow it.
	PublishingID string
	// StateAt is the time of the IVS event or observation that set
	// Publishing; an older one never undoes it.
	StateAt time.Time
}

// Source returns the participant whose media the broadcast carries: the one
// IVS reports publishing, else the last token's.
func (p Publisher) Source() string {
	if p.PublishingID != "" {
		return p.PublishingID
	}
	return p.ParticipantID
}

// PresenceStore tracks live viewers, per-stage counts and the live publisher.
// Implemented by memory (one process) and redis (many instances). Counts are
// exact: they are the size of the set of live sessions, never a separate
// counter. Every session it closes is handed to the SessionSink exactly once.
type PresenceStore interface {
	// PutStage makes a stage known to assignment, or changes its state.
	PutStage(ctx context.Context, arn string, state StageState) error
	// RemoveStage forgets a stage and closes its sessions as stage_deleted.
	RemoveStage(ctx context.Context, arn string, now time.Time) ([]ClosedSession, error)

	// Join seats a viewer (see JoinRequest). ESTAGEFULL when no stage has room,
	// ENOTFOUND when StageARN is given but unknown.
	Join(ctx context.Context, req JoinRequest) (JoinResult, error)
	// SetParticipant records the participant id of a session after its token
	// was issued (API tokens choose the id themselves).
	SetParticipant(ctx context.Context, stageARN, userID, sessionID, participantID string) error
	// Release undoes a join whose token could not be issued. It removes the
	// session only if it still has sessionID, and records nothing.
	Release(ctx context.Context, stageARN, userID, sessionID string) error
	// Heartbeat marks a live session as seen; ENOTFOUND if it is not live.
	// It never recreates a session.
	Heartbeat(ctx context.Context, req HeartbeatRequest) error
	// Leave closes a live session; ENOTFOUND if it is not live.
	Leave(ctx context.Context, req LeaveRequest) (ClosedSession, error)
	// Expire closes, as timeouts, up to max sessions last seen before cutoff.
	Expire(ctx context.Context, cutoff time.Time, max int) ([]ClosedSession, error)

	// Loads returns every known stage with its viewer count, in O(stages).
	Loads(ctx context.Context) ([]StageLoad, error)
	// Viewers lists the live sessions of one stage.
	Viewers(ctx context.Context, stageARN string) ([]ViewerSession, error)
	// Session returns one live session, or ENOTFOUND.
	Session(ctx context.Context, stageARN, userID string) (ViewerSession, error)

	// SetPublisher records the live publisher until p.ExpiresAt.
	SetPublisher(ctx context.Context, p Publisher) error
	// Publisher returns the live publisher, or ENOTFOUND when none is live.
	Publisher(ctx context.Context) (Publisher, error)
	// ClearPublisher ends the live publisher if it has participantID (any
	// publisher when participantID is empty).
	ClearPublisher(ctx context.Context, participantID string) error

	// Restore puts back sessions from a checkpoint after presence was lost.
	// It skips sessions whose stage is unknown and users already live on the
	// stage, ignores capacity (they were seated before), and returns how many
	// it restored.
	Restore(ctx context.Context, sessions []ViewerSession) (int, error)
	// Intact reports whether the store still holds what it held when
	// MarkIntact was last called: false for a new store and after the store
	// lost its data (a Redis restarted without persistence, or flushed).
	// The leader rebuilds presence (stages, then the checkpoint) while it
	// is false. Counting stages cannot tell: a rebuild half done, or a
	// stage registered by another instance, looks the same as an intact
	// store.
	Intact(ctx context.Context) (bool, error)
	// MarkIntact records that presence has been rebuilt.
	MarkIntact(ctx context.Context) error

	// IVSCounts keeps IVS's view of each stage beside the heartbeat counts.
	IVSCounts

	// Ping checks the store is reachable.
	Ping(ctx context.Context) error
}
