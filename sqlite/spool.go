package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/poison"
)

// Spool is a durable local queue of closed sessions in front of a history
// store that may be out of reach (PostgreSQL used without Redis): the API
// writes records here, on local disk, before it answers, and Run forwards
// them in batches, deleting each batch only once the remote store has it
// (written, or refused for its content and dead-lettered there: the remote
// store's RecordSessions fails only in an outage, so a poison record never
// holds the queue).
type Spool struct {
	db  *DB
	log *slog.Logger
}

var _ ivslive.SessionSink = (*Spool)(nil)

// NewSpool returns a spool in db.
func NewSpool(db *DB, log *slog.Logger) *Spool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Spool{db: db, log: log}
}

// RecordSessions implements ivslive.SessionSink: the records are on disk
// when it returns.
func (s *Spool) RecordSessions(ctx context.Context, sessions []ivslive.ClosedSession) error {
	now := formatTime(s.db.Now())
	return storeError("spool sessions", s.db.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO session_spool (id, payload, spooled_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range sessions {
			b, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, c.ID, string(b), now); err != nil {
				return fmt.Errorf("spool session %s: %w", c.ID, err)
			}
		}
		return nil
	}))
}

// Backlog returns how many records wait to be forwarded.
func (s *Spool) Backlog(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.db.QueryRowContext(ctx, `SELECT count(*) FROM session_spool`).Scan(&n)
	return n, storeError("spool backlog", err)
}

// Oldest returns when the oldest record waiting was spooled, or the zero
// time when none waits (or it was spooled before spooled_at existed). The
// first row by seq is the oldest: one index lookup, however long the spool.
func (s *Spool) Oldest(ctx context.Context) (time.Time, error) {
	var t sql.NullString
	err := s.db.db.QueryRowContext(ctx, `SELECT spooled_at FROM session_spool ORDER BY seq LIMIT 1`).Scan(&t)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, storeError("oldest spooled record", err)
	}
	return parseTime(t), nil
}

// Drain forwards up to batch records, oldest first, and deletes them once
// to has stored them. It returns how many it forwarded. A record that
// cannot even be read is handed to to's dead letters when to keeps them
// (ivslive.DeadLetterSink), and dropped with an error log otherwise.
func (s *Spool) Drain(ctx context.Context, to ivslive.SessionSink, batch int) (int, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT seq, payload FROM session_spool ORDER BY seq LIMIT ?`, batch)
	if err != nil {
		return 0, storeError("read the spool", err)
	}
	var (
		seqs     []any
		sessions []ivslive.ClosedSession
		letters  []ivslive.DeadLetter
	)
	for rows.Next() {
		var (
			seq     int64
			payload string
			c       ivslive.ClosedSession
		)
		if err := rows.Scan(&seq, &payload); err != nil {
			rows.Close()
			return 0, storeError("read the spool", err)
		}
		seqs = append(seqs, seq)
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			s.log.Error("unreadable spooled session", "seq", seq, "err", err)
			letters = append(letters, poison.Letter(ivslive.DeadLetterFromSpool, "", payload, err, s.db.Now()))
			continue
		}
		sessions = append(sessions, c)
	}
	rows.Close()
	if len(seqs) == 0 {
		return 0, nil
	}
	if dl, ok := to.(ivslive.DeadLetterSink); ok && len(letters) > 0 {
		if err := dl.SaveDeadLetters(ctx, letters); err != nil {
			return 0, err
		}
	}
	if err := to.RecordSessions(ctx, sessions); err != nil {
		return 0, err
	}
	placeholders := strings.TrimSuffix(strings.Repeat("?,", len(seqs)), ",")
	if _, err := s.db.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM session_spool WHERE seq IN (`+placeholders+`)`, seqs...); err != nil {
		return 0, storeError("delete forwarded records", err) // forwarded again later; the remote store ignores duplicates
	}
	return len(sessions), nil
}

// Run forwards spooled records to `to` until ctx is done, every interval
// and at once while there is more; failures back off and are retried.
func (s *Spool) Run(ctx context.Context, to ivslive.SessionSink, interval time.Duration) {
	wait := interval
	for {
		n, err := s.Drain(ctx, to, 1000)
		switch {
		case err != nil:
			wait = min(max(2*wait, interval), 10*time.Second)
			s.log.Warn("forwarding spooled sessions failed; they stay on disk and will be retried", "retryIn", wait, "err", err)
		case n == 1000:
			wait = 0
		default:
			wait = interval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
