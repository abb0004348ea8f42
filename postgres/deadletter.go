package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	n := len(letters)
	keys, sources, sessions, records, errs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	failed := make([]time.Time, n)
	for i, l := range letters {
		keys[i], sources[i], sessions[i], records[i], errs[i], failed[i] = l.Key, l.Source, l.SessionID, l.Record, l.Error, l.FailedAt
	}
	ctx, cancel := d.bound(ctx)
	defer cancel()
	rows, _ := d.pool.Query(ctx, `INSERT INTO history_dead_letters (key, source, session_id, record, error, failed_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
		ON CONFLICT (key) DO NOTHING RETURNING key`, keys, sources, sessions, records, errs, failed)
	fresh, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return storeError(fmt.Sprintf("save %d dead letters", n), err)
	}
	d.notify(letters, fresh)
	return nil
}

// notify tells the listener about the letters whose keys are in fresh.
func (d *DB) notify(letters []ivslive.DeadLetter, fresh []string) {
	if len(fresh) == 0 {
		return
	}
	isFresh := make(map[string]bool, len(fresh))
	for _, k := range fresh {
		isFresh[k] = true
	}
	var out []ivslive.DeadLetter
	for _, l := range letters {
		if isFresh[l.Key] {
			out = append(out, l)
			delete(isFresh, l.Key)
		}
	}
	d.deadLetters.Tell(out)
}

// DeleteDeadLettersBefore implements ivslive.DeadLetters.
func (d *DB) DeleteDeadLettersBefore(ctx context.Context, t time.Time) (int64, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	tag, err := d.pool.Exec(ctx, `DELETE FROM history_dead_letters WHERE failed_at < $1`, t)
	if err != nil {
		return 0, storeError("delete old dead letters", err)
	}
	return tag.RowsAffected(), nil
}

// FindDeadLetters implements ivslive.DeadLetters.
func (d *DB) FindDeadLetters(ctx context.Context, f ivslive.DeadLetterFilter) ([]ivslive.DeadLetter, string, int, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	var total int
	if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM history_dead_letters`).Scan(&total); err != nil {
		return nil, "", 0, storeError("count dead letters", err)
	}
	where, args := ``, []any{}
	if f.After != "" {
		at, key, err := cursor.Decode(f.After)
		if err != nil {
			return nil, "", 0, err
		}
		where, args = `WHERE (failed_at, key) < ($1, $2)`, append(args, at, key)
	}
	args = append(args, f.Limit+1)
	rows, _ := d.pool.Query(ctx, fmt.Sprintf(`SELECT key, source, session_id, record, error, failed_at
		FROM history_dead_letters %s ORDER BY failed_at DESC, key DESC LIMIT $%d`, where, len(args)), args...)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ivslive.DeadLetter, error) {
		var l ivslive.DeadLetter
		err := row.Scan(&l.Key, &l.Source, &l.SessionID, &l.Record, &l.Error, &l.FailedAt)
		l.FailedAt = l.FailedAt.UTC()
		return l, err
	})
	if err != nil {
		return nil, "", 0, storeError("find dead letters", err)
	}
	out, next := cursor.Page(out, f.Limit, func(x ivslive.DeadLetter) (time.Time, string) { return x.FailedAt, x.Key })
	return out, next, total, nil
}
