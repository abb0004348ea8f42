package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/cursor"
)

var _ ivslive.StageStore = (*DB)(nil)

const stageColumns = `arn, name, is_master, auto_scaled, state, tags, endpoints, created_at, updated_at,
	draining_since, replication_source, replication_participant, replication_started_at`

// stageValues are the values of stageColumns for s.
func (d *DB) stageValues(s ivslive.Stage) []any {
	var repSource, repParticipant *string
	var repStarted *time.Time
	if r := s.Replication; r != nil {
		repSource, repParticipant, repStarted = &r.SourceStageARN, &r.ParticipantID, timePtr(r.StartedAt)
	}
	if s.State == "" {
		s.State = ivslive.StageActive
	}
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = d.Now()
	}
	tags := s.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return []any{s.ARN, s.Name, s.Master, s.AutoScaled, string(s.State), tags, s.Endpoints,
		s.CreatedAt, s.UpdatedAt, timePtr(s.DrainingSince), repSource, repParticipant, repStarted}
}

// CreateStage implements ivslive.StageStore. A transaction-scoped advisory
// lock, one per schema, serialises creates across every instance, so the
// count and the insert are one step.
func (d *DB) CreateStage(ctx context.Context, s ivslive.Stage, limit int) error {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return storeError("create stage "+s.ARN, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.stages'))`); err != nil {
		return storeError("create stage "+s.ARN+": lock", err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM stages WHERE state <> 'deleted'`).Scan(&n); err != nil {
		return storeError("create stage "+s.ARN+": count", err)
	}
	if n >= limit {
		return ivslive.ReasonError(ivslive.ESTAGELIMIT, ivslive.RStageLimit, limit)
	}
	_, err = tx.Exec(ctx, `INSERT INTO stages (`+stageColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, d.stageValues(s)...)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return ivslive.Errorf(ivslive.ECONFLICT, "stage %s is recorded already", s.ARN)
	}
	if err != nil {
		return storeError("create stage "+s.ARN, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return storeError("create stage "+s.ARN+": commit", err)
	}
	return nil
}

// SaveStage implements ivslive.StageStore.
func (d *DB) SaveStage(ctx context.Context, s ivslive.Stage) error {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	_, err := d.pool.Exec(ctx, `INSERT INTO stages (`+stageColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (arn) DO UPDATE SET name = excluded.name, is_master = excluded.is_master,
			auto_scaled = excluded.auto_scaled, state = excluded.state, tags = excluded.tags,
			endpoints = excluded.endpoints, updated_at = excluded.updated_at,
			draining_since = excluded.draining_since, replication_source = excluded.replication_source,
			replication_participant = excluded.replication_participant,
			replication_started_at = excluded.replication_started_at`,
		d.stageValues(s)...)
	if err != nil {
		return storeError("save stage "+s.ARN, err)
	}
	return nil
}

// FindStageByARN implements ivslive.StageStore.
func (d *DB) FindStageByARN(ctx context.Context, arn string) (ivslive.Stage, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	rows, _ := d.pool.Query(ctx, `SELECT `+stageColumns+` FROM stages WHERE arn = $1`, arn)
	s, err := pgx.CollectExactlyOneRow(rows, scanStage)
	if errors.Is(err, pgx.ErrNoRows) {
		return ivslive.Stage{}, ivslive.NotFound(ivslive.RStage)
	}
	if err != nil {
		return ivslive.Stage{}, storeError("find stage "+arn, err)
	}
	return s, nil
}

// FindStages implements ivslive.StageStore.
func (d *DB) FindStages(ctx context.Context, f ivslive.StageFilter) ([]ivslive.Stage, string, int, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	where, args := `WHERE true`, []any{}
	if !f.IncludeDeleted {
		where += ` AND state <> 'deleted'`
	}
	var total int
	if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM stages `+where, args...).Scan(&total); err != nil {
		return nil, "", 0, storeError("count stages", err)
	}
	if f.After != "" {
		at, arn, err := cursor.Decode(f.After)
		if err != nil {
			return nil, "", 0, err
		}
		where += ` AND (created_at, arn) > ($1, $2)`
		args = append(args, at, arn)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	args = append(args, limit+1)
	rows, _ := d.pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM stages %s ORDER BY created_at, arn LIMIT $%d`, stageColumns, where, len(args)), args...)
	stages, err := pgx.CollectRows(rows, scanStage)
	if err != nil {
		return nil, "", 0, storeError("find stages", err)
	}
	stages, next := cursor.Page(stages, limit, func(x ivslive.Stage) (time.Time, string) { return x.CreatedAt, x.ARN })
	return stages, next, total, nil
}

// Setting implements ivslive.StageStore.
func (d *DB) Setting(ctx context.Context, key string) (string, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	var v string
	err := d.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ivslive.Errorf(ivslive.ENOTFOUND, "setting %s is not set", key)
	}
	if err != nil {
		return "", storeError("read setting "+key, err)
	}
	return v, nil
}

// SetSetting implements ivslive.StageStore.
func (d *DB) SetSetting(ctx context.Context, key, value string) error {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	_, err := d.pool.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, d.Now())
	if err != nil {
		return storeError("write setting "+key, err)
	}
	return nil
}

// InitSetting implements ivslive.StageStore.
func (d *DB) InitSetting(ctx context.Context, key, value string) (string, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	_, err := d.pool.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO NOTHING`, key, value, d.Now())
	if err != nil {
		return "", storeError("init setting "+key, err)
	}
	return d.Setting(ctx, key)
}

func scanStage(row pgx.CollectableRow) (ivslive.Stage, error) {
	var (
		s                         ivslive.Stage
		state                     string
		draining, repStarted      *time.Time
		repSource, repParticipant *string
	)
	err := row.Scan(&s.ARN, &s.Name, &s.Master, &s.AutoScaled, &state, &s.Tags, &s.Endpoints,
		&s.CreatedAt, &s.UpdatedAt, &draining, &repSource, &repParticipant, &repStarted)
	if err != nil {
		return s, err
	}
	s.State = ivslive.StageState(state)
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	if draining != nil {
		s.DrainingSince = draining.UTC()
	}
	if repSource != nil && *repSource != "" {
		s.Replication = &ivslive.Replication{SourceStageARN: *repSource, DestinationStageARN: s.ARN}
		if repParticipant != nil {
			s.Replication.ParticipantID = *repParticipant
		}
		if repStarted != nil {
			s.Replication.StartedAt = repStarted.UTC()
		}
	}
	return s, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
