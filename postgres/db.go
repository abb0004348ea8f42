// Package postgres is the production history twin: managed stages, settings
// and (later) viewing records in PostgreSQL through pgx. Every table lives in
// one schema (default "ivslive", set as the connections' search_path), so a
// database shared with the Node server keeps its public tables untouched.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivslive/ivslive/internal/migrate"
	"github.com/ivslive/ivslive/internal/poison"
)

//go:embed migration/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	// URL is a PostgreSQL connection string (DATABASE_URL form).
	URL string
	// Schema holds every ivslive table; default "ivslive".
	Schema string
	// MaxConns and MinConns size the pool (DB_POOL_MAX, DB_POOL_MIN).
	MaxConns, MinConns int32
	// ConnectTimeout bounds each new connection (default 5 s).
	ConnectTimeout time.Duration
	// StatementTimeout bounds every query (DB_STATEMENT_TIMEOUT, default
	// 5 s): the server cancels a statement that runs longer, and each call
	// gives up on its own a second later, so a server that stopped
	// answering altogether cannot hold a request either.
	StatementTimeout time.Duration
}

// DefaultStatementTimeout is StatementTimeout when unset.
const DefaultStatementTimeout = 5 * time.Second

// deadlineMargin is how much longer than the server's statement timeout a
// call waits: a live server answers first (a clean cancel that keeps the
// connection), a frozen one is abandoned.
const deadlineMargin = time.Second

// DB is a PostgreSQL connection pool.
type DB struct {
	pool     *pgxpool.Pool
	schema   string
	migrated []string
	deadline time.Duration
	Now      func() time.Time

	// deadLetters hears of every record newly dead-lettered.
	deadLetters poison.Listener
}

// Migrated returns the names of the migrations Open applied.
func (d *DB) Migrated() []string { return d.migrated }

// Open connects, creates the schema if needed and applies pending migrations.
func Open(ctx context.Context, o Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if o.Schema == "" {
		o.Schema = "ivslive"
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.MinConns > 0 {
		cfg.MinConns = o.MinConns
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	cfg.ConnConfig.ConnectTimeout = o.ConnectTimeout
	cfg.ConnConfig.RuntimeParams["search_path"] = o.Schema
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	d := &DB{pool: pool, schema: o.Schema, deadline: o.StatementTimeout + deadlineMargin, Now: time.Now}
	if d.migrated, err = d.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the pool.
func (d *DB) Close() error { d.pool.Close(); return nil }

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	return storeError("ping", d.pool.Ping(ctx))
}

// bound gives one call its deadline. Every method that talks to the server
// starts with it.
func (d *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.deadline)
}

// Migrate applies the embedded migrations that have not run yet, each in its
// own transaction together with its schema_migrations row, and returns the
// names of those it applied. An advisory lock keeps instances starting
// together from racing.
func (d *DB) Migrate(ctx context.Context) ([]string, error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Release()
	// Migrations may wait for another instance's lock and build indexes on
	// big tables: no statement timeout on this connection while they run.
	if _, err := conn.Exec(ctx, `SET statement_timeout = 0`); err != nil {
		return nil, fmt.Errorf("prepare migrations: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `RESET statement_timeout`); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) // never back to the pool without its timeout
		}
	}()
	const lockID = 0x6976736c697665 // "ivslive"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{d.schema}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create schema %s: %w", d.schema, err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := make(map[string]bool, len(names))
	for _, n := range names {
		applied[n] = true
	}
	sub, _ := fs.Sub(migrations, "migration")
	pending, err := migrate.Pending(sub, applied)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, m := range pending {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, m.Name, d.Now())
			return err
		})
		if err != nil {
			return done, err
		}
		done = append(done, m.Name)
	}
	return done, nil
}
