package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/cursor"
)

var _ ivslive.DeadLetters = (*DB)(nil)

// NotifyDeadLetters sets f to hear of every record newly dead-lettered
// (not of one refused again after a redelivery), after it is stored.
func (d *DB) NotifyDeadLetters(f func([]ivslive.DeadLetter)) { d.deadLetters.Set(f) }

// SaveDeadLetters implements ivslive.DeadLetterSink.
func (d *DB) SaveDeadLetters(ctx context.Context, letters []ivslive.DeadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	var fresh []ivslive.DeadLetter
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO history_dead_letters (key, source, session_id, record, error, failed_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, l := range letters {
			res, err := stmt.ExecContext(ctx, l.Key, l.Source, l.SessionID, l.Record, l.Error, formatTime(l.FailedAt))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				fresh = append(fresh, l)
			}
		}
		return nil
	})
	if err != nil {
		return storeError(fmt.Sprintf("save %d dead letters", len(letters)), err)
	}
	d.deadLetters.Tell(fresh)
	return nil
}

// DeleteDeadLettersBefore implements ivslive.DeadLetters.
func (d *DB) DeleteDeadLettersBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM history_dead_letters WHERE failed_at < ?`, formatTime(t))
	if err != nil {
		return 0, storeError("delete old dead letters", err)
	}
	n, err := res.RowsAffected()
	return n, storeError("delete old dead letters", err)
}

// FindDeadLetters implements ivslive.DeadLetters.
func (d *DB) FindDeadLetters(ctx context.Context, f ivslive.DeadLetterFilter) ([]ivslive.DeadLetter, string, int, error) {
	var total int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM history_dead_letters`).Scan(&total); err != nil {
		return nil, "", 0, storeError("count dead letters", err)
	}
	where, args := ``, []any{}
	if f.After != "" {
		at, key, err := cursor.Decode(f.After)
		if err != nil {
			return nil, "", 0, err
		}
		where = `WHERE failed_at < ? OR (failed_at = ? AND key < ?)`
		args = append(args, formatTime(at), formatTime(at), key)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT key, source, session_id, record, error, failed_at FROM history_dead_letters `+where+
		` ORDER BY failed_at DESC, key DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, "", 0, storeError("find dead letters", err)
	}
	defer rows.Close()
	var out []ivslive.DeadLetter
	for rows.Next() {
		var (
			l      ivslive.DeadLetter
			failed sql.NullString
		)
		if err := rows.Scan(&l.Key, &l.Source, &l.SessionID, &l.Record, &l.Error, &failed); err != nil {
			return nil, "", 0, storeError("scan dead letter", err)
		}
		l.FailedAt = parseTime(failed)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, "", 0, storeError("find dead letters", err)
	}
	out, next := cursor.Page(out, f.Limit, func(x ivslive.DeadLetter) (time.Time, string) { return x.FailedAt, x.Key })
	return out, next, total, nil
}
