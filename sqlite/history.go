package sqlite

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/cursor"
)

var _ ivslive.HistoryStore = (*DB)(nil)

const sessionColumns = `id, user_id, stage_arn, participant_id, joined_at, last_seen_at, left_at, end_reason, user_agent, ip_address`

// FindSessions implements ivslive.HistoryStore.
func (d *DB) FindSessions(ctx context.Context, f ivslive.SessionFilter) ([]ivslive.ClosedSession, string, int, error) {
	var total int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM viewer_sessions WHERE user_id = ?`, f.UserID).Scan(&total); err != nil {
		return nil, "", 0, storeError("count sessions", err)
	}
	where, args := `WHERE user_id = ?`, []any{f.UserID}
	if f.After != "" {
		at, id, err := cursor.Decode(f.After)
		if err != nil {
			return nil, "", 0, err
		}
		where += ` AND (joined_at < ? OR (joined_at = ? AND id < ?))`
		args = append(args, formatTime(at), formatTime(at), id)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+sessionColumns+` FROM viewer_sessions `+where+
		` ORDER BY joined_at DESC, id DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, "", 0, storeError("find sessions", err)
	}
	defer rows.Close()
	var out []ivslive.ClosedSession
	for rows.Next() {
		var (
			c                  ivslive.ClosedSession
			joined, seen, left sql.NullString
			reason             string
		)
		if err := rows.Scan(&c.ID, &c.UserID, &c.StageARN, &c.ParticipantID, &joined, &seen, &left, &reason, &c.UserAgent, &c.IP); err != nil {
			return nil, "", 0, storeError("scan session", err)
		}
		c.JoinedAt, c.LastSeen, c.LeftAt, c.Reason = parseTime(joined), parseTime(seen), parseTime(left), ivslive.EndReason(reason)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", 0, storeError("find sessions", err)
	}
	out, next := cursor.Page(out, f.Limit, func(x ivslive.ClosedSession) (time.Time, string) { return x.JoinedAt, x.ID })
	return out, next, total, nil
}

// StageSessionStats implements ivslive.HistoryStore.
func (d *DB) StageSessionStats(ctx context.Context, stageARN string, since time.Time) (ivslive.SessionStats, error) {
	var (
		s   ivslive.SessionStats
		avg float64
	)
	err := d.db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT user_id), coalesce(avg(watch_duration_seconds), 0),
		coalesce(max(watch_duration_seconds), 0), coalesce(sum(watch_duration_seconds), 0)
		FROM viewer_sessions WHERE stage_arn = ? AND joined_at >= ?`, stageARN, formatTime(since)).
		Scan(&s.TotalViews, &s.UniqueViewers, &avg, &s.MaxWatchSeconds, &s.TotalWatchSeconds)
	if err != nil {
		return s, storeError("stage session stats", err)
	}
	s.AvgWatchSeconds = int(math.Round(avg))
	return s, nil
}

// DeleteSessionsBefore implements ivslive.HistoryStore.
func (d *DB) DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM viewer_sessions WHERE left_at < ?`, formatTime(t))
	if err != nil {
		return 0, storeError("delete old sessions", err)
	}
	n, err := res.RowsAffected()
	return n, storeError("delete old sessions", err)
}
