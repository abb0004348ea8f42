package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ivslive/ivslive"
)

// Webhooks is the webhook queue of one process (embedded mode, or
// PostgreSQL without Redis): jobs, archive, attempts log and target state
// in SQLite, each change one transaction committed to disk. It
// implements webhook.Store.
type Webhooks struct {
	db                   *DB
	archiveSize, logSize int

	// archived counts the archive's rows, so trimming it costs nothing when
	// there is nothing to trim. Only this process writes the file.
	mu       sync.Mutex
	archived int64
}

// NewWebhooks returns the queue in db, keeping the newest archiveSize
// events for replays and the newest logSize attempts (and failures).
func NewWebhooks(ctx context.Context, db *DB, archiveSize, logSize int) (*Webhooks, error) {
	w := &Webhooks{db: db, archiveSize: archiveSize, logSize: logSize}
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM webhook_events`).Scan(&w.archived); err != nil {
		return nil, fmt.Errorf("count archived webhook events: %w", err)
	}
	return w, nil
}

const jobColumns = `seq, stage_arn, event_id, type, time_ms, payload, enqueued_ms`

// Enqueue implements webhook.Store.
func (w *Webhooks) Enqueue(ctx context.Context, events []ivslive.WebhookEvent, jobs []ivslive.WebhookJob) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	archived := w.archived
	err := w.db.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			res, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (id, type, time_ms, stage_arn, payload) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				e.ID, e.Type, e.Time.UnixMilli(), e.StageARN, e.Payload)
			if err != nil {
				return fmt.Errorf("archive webhook event: %w", err)
			}
			n, _ := res.RowsAffected()
			archived += n
		}
		if excess := archived - int64(w.archiveSize); excess > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_events WHERE seq IN (SELECT seq FROM webhook_events ORDER BY time_ms, seq LIMIT ?)`, excess); err != nil {
				return fmt.Errorf("trim webhook archive: %w", err)
			}
			archived -= excess
		}
		disabled := map[string]bool{}
		for _, j := range jobs {
			off, seen := disabled[j.Target]
			if !seen {
				st, err := targetState(ctx, tx, j.Target)
				if err != nil {
					return err
				}
				off, disabled[j.Target] = st.Disabled, st.Disabled
			}
			if off {
				continue
			}
			e := j.Event
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_jobs (target, stage_arn, event_id, type, time_ms, payload, enqueued_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				j.Target, e.StageARN, e.ID, e.Type, e.Time.UnixMilli(), e.Payload, j.EnqueuedAt.UnixMilli()); err != nil {
				return fmt.Errorf("queue webhook job: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_queues (target, stage_arn, due_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				j.Target, e.StageARN, j.EnqueuedAt.UnixMilli()); err != nil {
				return fmt.Errorf("queue webhook job: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.archived = archived
	return nil
}

// Claim implements webhook.Store.
func (w *Webhooks) Claim(ctx context.Context, target string, now time.Time, lease time.Duration, max int) ([]ivslive.WebhookJob, error) {
	var out []ivslive.WebhookJob
	err := w.db.inTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT stage_arn FROM webhook_queues WHERE target = ? AND due_ms <= ? ORDER BY due_ms LIMIT ?`, target, now.UnixMilli(), max)
		if err != nil {
			return fmt.Errorf("find due webhook queues: %w", err)
		}
		var due []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			due = append(due, s)
		}
		rows.Close()
		for _, stage := range due {
			j, ok, err := claimHead(ctx, tx, target, stage, now, lease, false)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, j)
			}
		}
		return nil
	})
	return out, err
}

// claimHead leases the oldest job of a queue (counting a new attempt at
// it, or a first one when first), or removes the queue when it is empty.
func claimHead(ctx context.Context, tx *sql.Tx, target, stage string, now time.Time, lease time.Duration, first bool) (ivslive.WebhookJob, bool, error) {
	j := ivslive.WebhookJob{Target: target}
	var seq, at, enq int64
	err := tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM webhook_jobs WHERE target = ? AND stage_arn = ? ORDER BY seq LIMIT 1`, target, stage).
		Scan(&seq, &j.Event.StageARN, &j.Event.ID, &j.Event.Type, &at, &j.Event.Payload, &enq)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `DELETE FROM webhook_queues WHERE target = ? AND stage_arn = ?`, target, stage)
		return j, false, err
	}
	if err != nil {
		return j, false, fmt.Errorf("read webhook queue head: %w", err)
	}
	j.ID, j.Event.Time, j.EnqueuedAt, j.Lease = strconv.FormatInt(seq, 10), time.UnixMilli(at).UTC(), time.UnixMilli(enq).UTC(), newLease()
	attempts := `attempts + 1`
	if first {
		attempts = `1`
	}
	err = tx.QueryRowContext(ctx, `UPDATE webhook_queues SET due_ms = ?, attempts = `+attempts+`, lease = ? WHERE target = ? AND stage_arn = ? RETURNING attempts`,
		now.Add(lease).UnixMilli(), j.Lease, target, stage).Scan(&j.Attempt)
	if err != nil {
		return j, false, fmt.Errorf("lease webhook queue head: %w", err)
	}
	return j, true, nil
}

func newLease() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// holds checks that job's lease is still the one of its queue.
func holds(ctx context.Context, tx *sql.Tx, j ivslive.WebhookJob) error {
	var lease string
	err := tx.QueryRowContext(ctx, `SELECT lease FROM webhook_queues WHERE target = ? AND stage_arn = ?`, j.Target, j.Event.StageARN).Scan(&lease)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read webhook lease: %w", err)
	}
	if j.Lease == "" || lease != j.Lease {
		return ivslive.Errorf(ivslive.ECONFLICT, "webhook job %s for %s: the lease passed to another claimer", j.Event.ID, j.Target)
	}
	return nil
}

// Ack implements webhook.Store.
func (w *Webhooks) Ack(ctx context.Context, j ivslive.WebhookJob, a ivslive.WebhookAttempt, now time.Time, lease time.Duration) (ivslive.WebhookJob, bool, error) {
	var (
		next ivslive.WebhookJob
		more bool
	)
	err := w.db.inTx(ctx, func(tx *sql.Tx) error {
		if err := holds(ctx, tx, j); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_jobs WHERE seq = ?`, j.ID); err != nil {
			return fmt.Errorf("acknowledge webhook job: %w", err)
		}
		if err := w.logAttempt(ctx, tx, a); err != nil {
			return err
		}
		var err error
		next, more, err = claimHead(ctx, tx, j.Target, j.Event.StageARN, now, lease, true)
		return err
	})
	return next, more, err
}

// Retry implements webhook.Store.
func (w *Webhooks) Retry(ctx context.Context, j ivslive.WebhookJob, a ivslive.WebhookAttempt, at time.Time) error {
	return w.db.inTx(ctx, func(tx *sql.Tx) error {
		if err := holds(ctx, tx, j); err != nil {
			return err
		}
		untried := 0
		if a.EventID == "" {
			untried = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_queues SET due_ms = ?, lease = '', attempts = attempts - ? WHERE target = ? AND stage_arn = ?`,
			at.UnixMilli(), untried, j.Target, j.Event.StageARN); err != nil {
			return fmt.Errorf("reschedule webhook job: %w", err)
		}
		return w.logAttempt(ctx, tx, a)
	})
}

// logAttempt appends a to the attempts log, trims it, and updates the
// target's state. A zero attempt (a job given back untried) is not logged.
func (w *Webhooks) logAttempt(ctx context.Context, tx *sql.Tx, a ivslive.WebhookAttempt) error {
	if a.EventID == "" {
		return nil
	}
	failed := a.Failed()
	res, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (failed, at_ms, target, event_id, type, stage_arn, attempt, outcome, status, error, duration_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, failed, a.Time.UnixMilli(), a.Target, a.EventID, a.Type, a.StageARN, a.Attempt,
		string(a.Outcome), a.Status, a.Error, a.Duration.Microseconds())
	if err != nil {
		return fmt.Errorf("log webhook attempt: %w", err)
	}
	seq, _ := res.LastInsertId()
	// Keep the newest logSize rows, and older failures while they are
	// among the newest logSize failures.
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE seq <= ? AND (failed = 0 OR seq < coalesce(
		(SELECT seq FROM webhook_attempts WHERE failed = 1 ORDER BY seq DESC LIMIT 1 OFFSET ?), 0))`, seq-int64(w.logSize), w.logSize-1); err != nil {
		return fmt.Errorf("trim webhook attempts: %w", err)
	}
	var q string
	if failed {
		q = `INSERT INTO webhook_targets (name, last_failed_ms, last_error, failing) VALUES (?, ?, ?, 1)
			ON CONFLICT (name) DO UPDATE SET last_failed_ms = excluded.last_failed_ms, last_error = excluded.last_error, failing = failing + 1`
	} else {
		q = `INSERT INTO webhook_targets (name, last_delivered_ms, last_error) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET last_delivered_ms = excluded.last_delivered_ms, failing = 0`
	}
	if _, err := tx.ExecContext(ctx, q, a.Target, a.Time.UnixMilli(), a.Error); err != nil {
		return fmt.Errorf("update webhook target: %w", err)
	}
	return nil
}

// Disable implements webhook.Store.
func (w *Webhooks) Disable(ctx context.Context, target, reason string, at time.Time) (int, error) {
	var n int
	err := w.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_targets (name, disabled_ms, disabled_reason) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET disabled_ms = excluded.disabled_ms, disabled_reason = excluded.disabled_reason`,
			target, at.UnixMilli(), reason); err != nil {
			return fmt.Errorf("disable webhook target: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_jobs WHERE target = ?`, target)
		if err != nil {
			return fmt.Errorf("drop webhook jobs: %w", err)
		}
		dropped, _ := res.RowsAffected()
		n = int(dropped)
		_, err = tx.ExecContext(ctx, `DELETE FROM webhook_queues WHERE target = ?`, target)
		return err
	})
	return n, err
}

// Enable implements webhook.Store.
func (w *Webhooks) Enable(ctx context.Context, target string) error {
	_, err := w.db.db.ExecContext(ctx, `UPDATE webhook_targets SET disabled_ms = NULL, disabled_reason = '' WHERE name = ?`, target)
	if err != nil {
		return fmt.Errorf("enable webhook target: %w", err)
	}
	return nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func targetState(ctx context.Context, q querier, target string) (ivslive.WebhookTargetStatus, error) {
	st := ivslive.WebhookTargetStatus{Name: target}
	var disabled, delivered, failed sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT disabled_ms, disabled_reason, last_delivered_ms, last_failed_ms, last_error, failing FROM webhook_targets WHERE name = ?`, target).
		Scan(&disabled, &st.DisabledReason, &delivered, &failed, &st.LastError, &st.Failing)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("read webhook target %s: %w", target, err)
	}
	st.Disabled, st.DisabledAt = disabled.Valid, msTime(disabled)
	st.LastDelivered, st.LastFailed = msTime(delivered), msTime(failed)
	return st, nil
}

func msTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

// Target implements webhook.Store.
func (w *Webhooks) Target(ctx context.Context, target string) (ivslive.WebhookTargetStatus, error) {
	st, err := targetState(ctx, w.db.db, target)
	if err != nil {
		return st, err
	}
	err = w.db.db.QueryRowContext(ctx, `SELECT count(*) FROM webhook_jobs WHERE target = ?`, target).Scan(&st.Queued)
	return st, err
}

// Event implements webhook.Store.
func (w *Webhooks) Event(ctx context.Context, id string) (ivslive.WebhookEvent, error) {
	e := ivslive.WebhookEvent{ID: id}
	var at int64
	err := w.db.db.QueryRowContext(ctx, `SELECT type, time_ms, stage_arn, payload FROM webhook_events WHERE id = ?`, id).Scan(&e.Type, &at, &e.StageARN, &e.Payload)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ivslive.Errorf(ivslive.ENOTFOUND, "webhook event %s is not in the archive", id)
	}
	e.Time = time.UnixMilli(at).UTC()
	return e, err
}

// Events implements webhook.Store.
func (w *Webhooks) Events(ctx context.Context, from, to time.Time, limit int) ([]ivslive.WebhookEvent, error) {
	rows, err := w.db.db.QueryContext(ctx, `SELECT id, type, time_ms, stage_arn, payload FROM webhook_events WHERE time_ms BETWEEN ? AND ? ORDER BY time_ms, seq LIMIT ?`,
		from.UnixMilli(), to.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("read webhook archive: %w", err)
	}
	defer rows.Close()
	var out []ivslive.WebhookEvent
	for rows.Next() {
		var (
			e  ivslive.WebhookEvent
			at int64
		)
		if err := rows.Scan(&e.ID, &e.Type, &at, &e.StageARN, &e.Payload); err != nil {
			return nil, err
		}
		e.Time = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// Attempts implements webhook.Store.
func (w *Webhooks) Attempts(ctx context.Context, f ivslive.WebhookAttemptFilter) ([]ivslive.WebhookAttempt, error) {
	where := ``
	if f.Failures {
		where = `WHERE failed = 1`
	}
	rows, err := w.db.db.QueryContext(ctx, `SELECT at_ms, target, event_id, type, stage_arn, attempt, outcome, status, error, duration_us
		FROM webhook_attempts `+where+` ORDER BY seq DESC LIMIT ?`, w.logSize)
	if err != nil {
		return nil, fmt.Errorf("read webhook attempts: %w", err)
	}
	defer rows.Close()
	var out []ivslive.WebhookAttempt
	for rows.Next() && len(out) < f.Limit {
		var (
			a       ivslive.WebhookAttempt
			at, dur int64
			outcome string
		)
		if err := rows.Scan(&at, &a.Target, &a.EventID, &a.Type, &a.StageARN, &a.Attempt, &outcome, &a.Status, &a.Error, &dur); err != nil {
			return nil, err
		}
		if f.Target != "" && a.Target != f.Target {
			continue
		}
		a.Time, a.Outcome, a.Duration = time.UnixMilli(at).UTC(), ivslive.WebhookOutcome(outcome), time.Duration(dur)*time.Microsecond
		out = append(out, a)
	}
	return out, rows.Err()
}
