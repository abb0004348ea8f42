package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ivslive/ivslive"
)

// SaveSnapshots implements ivslive.HistoryStore.
func (d *DB) SaveSnapshots(ctx context.Context, snaps []ivslive.Snapshot) error {
	return storeError("save snapshots", d.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO viewer_stats_snapshots (stage_arn, snapshot_time, viewer_count)
			VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET viewer_count = excluded.viewer_count`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range snaps {
			if _, err := stmt.ExecContext(ctx, s.StageARN, formatTime(s.Time), s.Viewers); err != nil {
				return err
			}
		}
		return nil
	}))
}

// SnapshotSeries implements ivslive.HistoryStore.
func (d *DB) SnapshotSeries(ctx context.Context, stageARN string, since, until time.Time, bucket time.Duration) ([]ivslive.SnapshotBucket, error) {
	width := int64(bucket / time.Second)
	if width < 1 {
		width = 1
	}
	rows, err := d.db.QueryContext(ctx, `SELECT (CAST(strftime('%s', snapshot_time) AS INTEGER) / ?) * ? AS b,
			avg(viewer_count), max(viewer_count)
		FROM viewer_stats_snapshots WHERE stage_arn = ? AND snapshot_time >= ? AND snapshot_time < ?
		GROUP BY b ORDER BY b`, width, width, stageARN, formatTime(since), formatTime(until))
	if err != nil {
		return nil, storeError("snapshot series", err)
	}
	defer rows.Close()
	var out []ivslive.SnapshotBucket
	for rows.Next() {
		var (
			start int64
			b     ivslive.SnapshotBucket
		)
		if err := rows.Scan(&start, &b.AvgViewers, &b.PeakViewers); err != nil {
			return nil, storeError("scan snapshot bucket", err)
		}
		b.Start = time.Unix(start, 0).UTC()
		out = append(out, b)
	}
	return out, storeError("snapshot series", rows.Err())
}

// PeakViewers implements ivslive.HistoryStore.
func (d *DB) PeakViewers(ctx context.Context, stageARN string, since, until time.Time) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT coalesce(max(viewer_count), 0) FROM viewer_stats_snapshots
		WHERE stage_arn = ? AND snapshot_time >= ? AND snapshot_time < ?`, stageARN, formatTime(since), formatTime(until)).Scan(&n)
	if err != nil {
		return 0, storeError("peak viewers", err)
	}
	return n, nil
}

// DeleteSnapshotsBefore implements ivslive.HistoryStore.
func (d *DB) DeleteSnapshotsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM viewer_stats_snapshots WHERE snapshot_time < ?`, formatTime(t))
	if err != nil {
		return 0, storeError("delete old snapshots", err)
	}
	n, err := res.RowsAffected()
	return n, storeError("delete old snapshots", err)
}

// SaveCheckpoint implements ivslive.HistoryStore. Sessions that cannot be
// stored are left out (see ivslive.Checkpoint.Cleaned) rather than failing
// every checkpoint. An incremental checkpoint is written in transactions of
// checkpointBatch rows, deletions first, so session records queued behind
// it wait for one batch at most; a crash half way leaves a state between the
// previous checkpoint and this one.
func (d *DB) SaveCheckpoint(ctx context.Context, c ivslive.Checkpoint) error {
	c, _ = c.Cleaned()
	if !c.Incremental {
		return storeError("save checkpoint", d.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM presence_checkpoint`); err != nil {
				return err
			}
			return d.putCheckpoint(ctx, tx, c.TakenAt, c.Sessions)
		}))
	}
	for gone := c.Gone; len(gone) > 0; gone = gone[min(len(gone), checkpointBatch):] {
		batch := gone[:min(len(gone), checkpointBatch)]
		if err := d.inTx(ctx, func(tx *sql.Tx) error {
			stmt, err := tx.PrepareContext(ctx, `DELETE FROM presence_checkpoint WHERE id = ?`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, id := range batch {
				if _, err := stmt.ExecContext(ctx, id); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return storeError("save checkpoint", err)
		}
	}
	for put := c.Sessions; len(put) > 0; put = put[min(len(put), checkpointBatch):] {
		batch := put[:min(len(put), checkpointBatch)]
		if err := d.inTx(ctx, func(tx *sql.Tx) error { return d.putCheckpoint(ctx, tx, c.TakenAt, batch) }); err != nil {
			return storeError("save checkpoint", err)
		}
	}
	// Last: a crash before it leaves the previous meta row, whose older
	// SeenSince still holds for the sessions it applies to.
	meta := ivslive.ViewerSession{ID: ivslive.CheckpointMetaID, JoinedAt: c.SeenSince, LastSeen: c.TakenAt}
	return storeError("save checkpoint", d.inTx(ctx, func(tx *sql.Tx) error {
		return d.putCheckpoint(ctx, tx, c.TakenAt, []ivslive.ViewerSession{meta})
	}))
}

// checkpointBatch bounds the rows one transaction of an incremental
// checkpoint writes.
const checkpointBatch = 2000

// putCheckpoint stores sessions over those with the same id.
func (d *DB) putCheckpoint(ctx context.Context, tx *sql.Tx, taken time.Time, sessions []ivslive.ViewerSession) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO presence_checkpoint (id, user_id, stage_arn, participant_id,
		joined_at, last_seen_at, user_agent, ip_address, taken_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, stage_arn = excluded.stage_arn,
			participant_id = excluded.participant_id, joined_at = excluded.joined_at,
			last_seen_at = excluded.last_seen_at, user_agent = excluded.user_agent,
			ip_address = excluded.ip_address, taken_at = excluded.taken_at`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	at := formatTime(taken)
	for _, s := range sessions {
		if _, err := stmt.ExecContext(ctx, s.ID, s.UserID, s.StageARN, s.ParticipantID,
			formatTime(s.JoinedAt), formatTime(s.LastSeen), s.UserAgent, s.IP, at); err != nil {
			return err
		}
	}
	return nil
}

// LoadCheckpoint implements ivslive.HistoryStore.
func (d *DB) LoadCheckpoint(ctx context.Context) (ivslive.Checkpoint, error) {
	var c ivslive.Checkpoint
	var taken sql.NullString
	err := d.db.QueryRowContext(ctx, `SELECT max(taken_at) FROM presence_checkpoint`).Scan(&taken)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return c, storeError("load checkpoint", err)
	}
	if !taken.Valid {
		return c, ivslive.Errorf(ivslive.ENOTFOUND, "no presence checkpoint")
	}
	c.TakenAt = parseTime(taken)
	// The meta row of an incremental checkpoint (see ivslive.Checkpoint.SeenSince)
	// keeps SeenSince in joined_at.
	rows, err := d.db.QueryContext(ctx, `SELECT c.id, c.user_id, c.stage_arn, c.participant_id, c.joined_at,
			CASE WHEN c.taken_at < m.taken_at AND c.last_seen_at < m.joined_at THEN m.joined_at ELSE c.last_seen_at END AS seen,
			c.user_agent, c.ip_address
		FROM presence_checkpoint c LEFT JOIN presence_checkpoint m ON m.id = ?
		WHERE c.id <> ? AND NOT EXISTS (SELECT 1 FROM viewer_sessions v WHERE v.id = c.id)
		ORDER BY c.stage_arn, seen`, ivslive.CheckpointMetaID, ivslive.CheckpointMetaID)
	if err != nil {
		return c, storeError("load checkpoint", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s            ivslive.ViewerSession
			joined, seen sql.NullString
		)
		if err := rows.Scan(&s.ID, &s.UserID, &s.StageARN, &s.ParticipantID, &joined, &seen, &s.UserAgent, &s.IP); err != nil {
			return c, storeError("scan checkpoint", err)
		}
		s.JoinedAt, s.LastSeen = parseTime(joined), parseTime(seen)
		c.Sessions = append(c.Sessions, s)
	}
	return c, storeError("load checkpoint", rows.Err())
}

// inTx runs f in a transaction, committing if it returns nil.
func (d *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}
