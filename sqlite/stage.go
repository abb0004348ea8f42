package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/cursor"
)

var _ ivslive.StageStore = (*DB)(nil)

const stageColumns = `arn, name, is_master, auto_scaled, state, tags, endpoints, created_at, updated_at,
	draining_since, replication_source, replication_participant, replication_started_at`

// stageValues are the values of stageColumns for s.
func (d *DB) stageValues(s ivslive.Stage) []any {
	tags, _ := json.Marshal(nonNilTags(s.Tags))
	endpoints, _ := json.Marshal(s.Endpoints)
	var repSource, repParticipant, repStarted any
	if r := s.Replication; r != nil {
		repSource, repParticipant, repStarted = r.SourceStageARN, r.ParticipantID, formatTime(r.StartedAt)
	}
	if s.State == "" {
		s.State = ivslive.StageActive
	}
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = d.Now()
	}
	return []any{s.ARN, s.Name, s.Master, s.AutoScaled, string(s.State), string(tags), string(endpoints),
		formatTime(s.CreatedAt), formatTime(s.UpdatedAt), formatTime(s.DrainingSince),
		repSource, repParticipant, repStarted}
}

// CreateStage implements ivslive.StageStore. One statement is one atomic
// step in SQLite (a single writer), count and insert together.
func (d *DB) CreateStage(ctx context.Context, s ivslive.Stage, limit int) error {
	res, err := d.db.ExecContext(ctx, `INSERT INTO stages (`+stageColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE (SELECT count(*) FROM stages WHERE state <> 'deleted') < ?`,
		append(d.stageValues(s), limit)...)
	var coded *sqlite.Error
	if errors.As(err, &coded) && coded.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return ivslive.Errorf(ivslive.ECONFLICT, "stage %s is recorded already", s.ARN)
	}
	if err != nil {
		return storeError("create stage "+s.ARN, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return ivslive.ReasonError(ivslive.ESTAGELIMIT, ivslive.RStageLimit, limit)
	}
	return nil
}

// SaveStage implements ivslive.StageStore.
func (d *DB) SaveStage(ctx context.Context, s ivslive.Stage) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO stages (`+stageColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
	row := d.db.QueryRowContext(ctx, `SELECT `+stageColumns+` FROM stages WHERE arn = ?`, arn)
	s, err := scanStage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ivslive.Stage{}, ivslive.NotFound(ivslive.RStage)
	}
	if err != nil {
		return ivslive.Stage{}, storeError("find stage "+arn, err)
	}
	return s, nil
}

// FindStages implements ivslive.StageStore.
func (d *DB) FindStages(ctx context.Context, f ivslive.StageFilter) ([]ivslive.Stage, string, int, error) {
	where, args := `WHERE 1 = 1`, []any{}
	if !f.IncludeDeleted {
		where += ` AND state <> 'deleted'`
	}
	var total int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM stages `+where, args...).Scan(&total); err != nil {
		return nil, "", 0, storeError("count stages", err)
	}
	if f.After != "" {
		at, arn, err := cursor.Decode(f.After)
		if err != nil {
			return nil, "", 0, err
		}
		where += ` AND (created_at > ? OR (created_at = ? AND arn > ?))`
		args = append(args, formatTime(at), formatTime(at), arn)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+stageColumns+` FROM stages `+where+` ORDER BY created_at, arn LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", 0, storeError("find stages", err)
	}
	defer rows.Close()
	var stages []ivslive.Stage
	for rows.Next() {
		s, err := scanStage(rows)
		if err != nil {
			return nil, "", 0, storeError("scan stage", err)
		}
		stages = append(stages, s)
	}
	if err := rows.Err(); err != nil {
		return nil, "", 0, storeError("find stages", err)
	}
	stages, next := cursor.Page(stages, limit, func(x ivslive.Stage) (time.Time, string) { return x.CreatedAt, x.ARN })
	return stages, next, total, nil
}

// Setting implements ivslive.StageStore.
func (d *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := d.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ivslive.Errorf(ivslive.ENOTFOUND, "setting %s is not set", key)
	}
	if err != nil {
		return "", storeError("read setting "+key, err)
	}
	return v, nil
}

// SetSetting implements ivslive.StageStore.
func (d *DB) SetSetting(ctx context.Context, key, value string) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, formatTime(d.Now()))
	if err != nil {
		return storeError("write setting "+key, err)
	}
	return nil
}

// InitSetting implements ivslive.StageStore.
func (d *DB) InitSetting(ctx context.Context, key, value string) (string, error) {
	_, err := d.db.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, key, value, formatTime(d.Now()))
	if err != nil {
		return "", storeError("init setting "+key, err)
	}
	return d.Setting(ctx, key)
}

type scanner interface{ Scan(dest ...any) error }

func scanStage(row scanner) (ivslive.Stage, error) {
	var (
		s                                      ivslive.Stage
		state, tags, endpoints                 string
		created, updated, draining, repStarted sql.NullString
		repSource, repParticipant              sql.NullString
	)
	err := row.Scan(&s.ARN, &s.Name, &s.Master, &s.AutoScaled, &state, &tags, &endpoints,
		&created, &updated, &draining, &repSource, &repParticipant, &repStarted)
	if err != nil {
		return s, err
	}
	s.State = ivslive.StageState(state)
	_ = json.Unmarshal([]byte(tags), &s.Tags)
	_ = json.Unmarshal([]byte(endpoints), &s.Endpoints)
	s.CreatedAt, s.UpdatedAt, s.DrainingSince = parseTime(created), parseTime(updated), parseTime(draining)
	if repSource.Valid && repSource.String != "" {
		s.Replication = &ivslive.Replication{
			SourceStageARN: repSource.String, DestinationStageARN: s.ARN,
			ParticipantID: repParticipant.String, StartedAt: parseTime(repStarted),
		}
	}
	return s, nil
}

func nonNilTags(t map[string]string) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return t
}
