package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/cursor"
)

var _ ivslive.HistoryStore = (*DB)(nil)

const sessionColumns = `id, user_id, stage_arn, participant_id, joined_at, last_seen_at, left_at, end_reason, user_agent, ip_address`

// FindSessions implements ivslive.HistoryStore.
func (d *DB) FindSessions(ctx context.Context, f ivslive.SessionFilter) ([]ivslive.ClosedSession, string, int, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	var total int
	if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM viewer_sessions WHERE user_id = $1`, f.UserID).Scan(&total); err != nil {
		return nil, "", 0, storeError("count sessions", err)
	}
	where, args := `WHERE user_id = $1`, []any{f.UserID}
	if f.After != "" {
		at, id, err := cursor.Decode(f.After)
		if err != nil {
			return nil, "", 0, err
		}
		where += ` AND (joined_at, id) < ($2, $3)`
		args = append(args, at, id)
	}
	args = append(args, f.Limit+1)
	rows, _ := d.pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM viewer_sessions %s ORDER BY joined_at DESC, id DESC LIMIT $%d`,
		sessionColumns, where, len(args)), args...)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ivslive.ClosedSession, error) {
		var c ivslive.ClosedSession
		var reason string
		err := row.Scan(&c.ID, &c.UserID, &c.StageARN, &c.ParticipantID, &c.JoinedAt, &c.LastSeen, &c.LeftAt, &reason, &c.UserAgent, &c.IP)
		c.JoinedAt, c.LastSeen, c.LeftAt, c.Reason = c.JoinedAt.UTC(), c.LastSeen.UTC(), c.LeftAt.UTC(), ivslive.EndReason(reason)
		return c, err
	})
	if err != nil {
		return nil, "", 0, storeError("find sessions", err)
	}
	out, next := cursor.Page(out, f.Limit, func(x ivslive.ClosedSession) (time.Time, string) { return x.JoinedAt, x.ID })
	return out, next, total, nil
}

// StageSessionStats implements ivslive.HistoryStore.
func (d *DB) StageSessionStats(ctx context.Context, stageARN string, since time.Time) (ivslive.SessionStats, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	var (
		s   ivslive.SessionStats
		avg float64
	)
	err := d.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT user_id), coalesce(avg(watch_duration_seconds), 0)::float8,
		coalesce(max(watch_duration_seconds), 0), coalesce(sum(watch_duration_seconds), 0)
		FROM viewer_sessions WHERE stage_arn = $1 AND joined_at >= $2`, stageARN, since).
		Scan(&s.TotalViews, &s.UniqueViewers, &avg, &s.MaxWatchSeconds, &s.TotalWatchSeconds)
	if err != nil {
		return s, storeError("stage session stats", err)
	}
	s.AvgWatchSeconds = int(math.Round(avg))
	return s, nil
}

// DeleteSessionsBefore implements ivslive.HistoryStore.
func (d *DB) DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	tag, err := d.pool.Exec(ctx, `DELETE FROM viewer_sessions WHERE left_at < $1`, t)
	if err != nil {
		return 0, storeError("delete old sessions", err)
	}
	return tag.RowsAffected(), nil
}

// SaveSnapshots implements ivslive.HistoryStore.
func (d *DB) SaveSnapshots(ctx context.Context, snaps []ivslive.Snapshot) error {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	arns, times, counts := make([]string, len(snaps)), make([]time.Time, len(snaps)), make([]int32, len(snaps))
	for i, s := range snaps {
		arns[i], times[i], counts[i] = s.StageARN, s.Time, int32(s.Viewers)
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO viewer_stats_snapshots (stage_arn, snapshot_time, viewer_count)
		SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::int4[])
		ON CONFLICT (stage_arn, snapshot_time) DO UPDATE SET viewer_count = excluded.viewer_count`, arns, times, counts)
	if err != nil {
		return storeError("save snapshots", err)
	}
	return nil
}

// SnapshotSeries implements ivslive.HistoryStore.
func (d *DB) SnapshotSeries(ctx context.Context, stageARN string, since, until time.Time, bucket time.Duration) ([]ivslive.SnapshotBucket, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	width := max(int64(bucket/time.Second), 1)
	rows, _ := d.pool.Query(ctx, `SELECT (floor(extract(epoch FROM snapshot_time) / $1) * $1)::int8 AS b,
			avg(viewer_count)::float8, max(viewer_count)
		FROM viewer_stats_snapshots WHERE stage_arn = $2 AND snapshot_time >= $3 AND snapshot_time < $4
		GROUP BY b ORDER BY b`, width, stageARN, since, until)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ivslive.SnapshotBucket, error) {
		var (
			start int64
			b     ivslive.SnapshotBucket
		)
		err := row.Scan(&start, &b.AvgViewers, &b.PeakViewers)
		b.Start = time.Unix(start, 0).UTC()
		return b, err
	})
	if err != nil {
		return nil, storeError("snapshot series", err)
	}
	return out, nil
}

// PeakViewers implements ivslive.HistoryStore.
func (d *DB) PeakViewers(ctx context.Context, stageARN string, since, until time.Time) (int, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	var n int
	err := d.pool.QueryRow(ctx, `SELECT coalesce(max(viewer_count), 0) FROM viewer_stats_snapshots
		WHERE stage_arn = $1 AND snapshot_time >= $2 AND snapshot_time < $3`, stageARN, since, until).Scan(&n)
	if err != nil {
		return 0, storeError("peak viewers", err)
	}
	return n, nil
}

// DeleteSnapshotsBefore implements ivslive.HistoryStore.
func (d *DB) DeleteSnapshotsBefore(ctx context.Context, t time.Time) (int64, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	tag, err := d.pool.Exec(ctx, `DELETE FROM viewer_stats_snapshots WHERE snapshot_time < $1`, t)
	if err != nil {
		return 0, storeError("delete old snapshots", err)
	}
	return tag.RowsAffected(), nil
}

// SaveCheckpoint implements ivslive.HistoryStore. Sessions that cannot be
// stored are left out (see ivslive.Checkpoint.Cleaned) rather than failing
// every checkpoint. An incremental checkpoint is written in statements of
// checkpointBatch rows, deletions first, each bounded by the statement
// timeout on its own; a crash half way leaves a state between the previous
// checkpoint and this one.
func (d *DB) SaveCheckpoint(ctx context.Context, c ivslive.Checkpoint) error {
	c, _ = c.Cleaned()
	if !c.Incremental {
		bctx, cancel := d.bound(ctx)
		defer cancel()
		return storeError("save checkpoint", pgx.BeginFunc(bctx, d.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(bctx, `DELETE FROM presence_checkpoint`); err != nil {
				return err
			}
			return putCheckpoint(bctx, tx, c.TakenAt, c.Sessions)
		}))
	}
	for gone := c.Gone; len(gone) > 0; gone = gone[min(len(gone), checkpointBatch):] {
		bctx, cancel := d.bound(ctx)
		_, err := d.pool.Exec(bctx, `DELETE FROM presence_checkpoint WHERE id = ANY($1::text[])`, gone[:min(len(gone), checkpointBatch)])
		cancel()
		if err != nil {
			return storeError("save checkpoint", err)
		}
	}
	for put := c.Sessions; len(put) > 0; put = put[min(len(put), checkpointBatch):] {
		bctx, cancel := d.bound(ctx)
		err := putCheckpoint(bctx, d.pool, c.TakenAt, put[:min(len(put), checkpointBatch)])
		cancel()
		if err != nil {
			return storeError("save checkpoint", err)
		}
	}
	// Last: a crash before it leaves the previous meta row, whose older
	// SeenSince still holds for the sessions it applies to.
	bctx, cancel := d.bound(ctx)
	defer cancel()
	meta := ivslive.ViewerSession{ID: ivslive.CheckpointMetaID, JoinedAt: c.SeenSince, LastSeen: c.TakenAt}
	return storeError("save checkpoint", putCheckpoint(bctx, d.pool, c.TakenAt, []ivslive.ViewerSession{meta}))
}

// checkpointBatch bounds the rows one statement of an incremental
// checkpoint writes.
const checkpointBatch = 5000

// putCheckpoint stores sessions over those with the same id.
func putCheckpoint(ctx context.Context, db interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, taken time.Time, sessions []ivslive.ViewerSession) error {
	n := len(sessions)
	ids, users, stages, pids, uas, ips := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	joined, seen := make([]time.Time, n), make([]time.Time, n)
	for i, s := range sessions {
		ids[i], users[i], stages[i], pids[i], uas[i], ips[i] = s.ID, s.UserID, s.StageARN, s.ParticipantID, s.UserAgent, s.IP
		joined[i], seen[i] = s.JoinedAt, s.LastSeen
	}
	_, err := db.Exec(ctx, `INSERT INTO presence_checkpoint (id, user_id, stage_arn, participant_id, joined_at,
			last_seen_at, user_agent, ip_address, taken_at)
		SELECT *, $9::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
			$6::timestamptz[], $7::text[], $8::text[])
		ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, stage_arn = excluded.stage_arn,
			participant_id = excluded.participant_id, joined_at = excluded.joined_at,
			last_seen_at = excluded.last_seen_at, user_agent = excluded.user_agent,
			ip_address = excluded.ip_address, taken_at = excluded.taken_at`, ids, users, stages, pids, joined, seen, uas, ips, taken)
	return err
}

// LoadCheckpoint implements ivslive.HistoryStore.
func (d *DB) LoadCheckpoint(ctx context.Context) (ivslive.Checkpoint, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	var c ivslive.Checkpoint
	var taken *time.Time
	if err := d.pool.QueryRow(ctx, `SELECT max(taken_at) FROM presence_checkpoint`).Scan(&taken); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return c, storeError("load checkpoint", err)
	}
	if taken == nil {
		return c, ivslive.Errorf(ivslive.ENOTFOUND, "no presence checkpoint")
	}
	c.TakenAt = taken.UTC()
	// The meta row of an incremental checkpoint (see ivslive.Checkpoint.SeenSince)
	// keeps SeenSince in joined_at.
	rows, _ := d.pool.Query(ctx, `SELECT c.id, c.user_id, c.stage_arn, c.participant_id, c.joined_at,
			CASE WHEN c.taken_at < m.taken_at AND c.last_seen_at < m.joined_at THEN m.joined_at ELSE c.last_seen_at END AS seen,
			c.user_agent, c.ip_address
		FROM presence_checkpoint c LEFT JOIN presence_checkpoint m ON m.id = $1
		WHERE c.id <> $1 AND NOT EXISTS (SELECT 1 FROM viewer_sessions v WHERE v.id = c.id)
		ORDER BY c.stage_arn, seen`, ivslive.CheckpointMetaID)
	sessions, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ivslive.ViewerSession, error) {
		var s ivslive.ViewerSession
		err := row.Scan(&s.ID, &s.UserID, &s.StageARN, &s.ParticipantID, &s.JoinedAt, &s.LastSeen, &s.UserAgent, &s.IP)
		s.JoinedAt, s.LastSeen = s.JoinedAt.UTC(), s.LastSeen.UTC()
		return s, err
	})
	if err != nil {
		return c, storeError("load checkpoint", err)
	}
	c.Sessions = sessions
	return c, nil
}
