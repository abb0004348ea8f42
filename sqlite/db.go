// Package sqlite is the embedded history twin: managed stages, settings and
// (later) viewing records in one SQLite file in the data directory, through
// the pure-Go modernc.org/sqlite driver. WAL mode with synchronous=FULL makes
// every committed write durable before the API answers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/ivslive/ivslive/internal/migrate"
	"github.com/ivslive/ivslive/internal/poison"
)

//go:embed migration/*.sql
var migrations embed.FS

// timeFormat stores UTC times as fixed-width text that sorts in time order.
const timeFormat = "2006-01-02T15:04:05.000Z"

// DB is an open SQLite database.
type DB struct {
	db       *sql.DB
	migrated []string
	Now      func() time.Time

	// deadLetters hears of every record newly dead-lettered.
	deadLetters poison.Listener
}

// Migrated returns the names of the migrations Open applied.
func (d *DB) Migrated() []string { return d.migrated }

// Open opens (creating if needed) the database at path and applies pending
// migrations. path ":memory:" opens a private in-memory database (tests).
func Open(ctx context.Context, path string) (*DB, error) {
	dsn := ":memory:"
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		if err := ownerOnly(path); err != nil {
			return nil, err
		}
		dsn = "file:" + path
	}
	dsn += "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// SQLite has one writer; a single connection avoids SQLITE_BUSY between
	// our own connections and keeps :memory: databases to one instance.
	db.SetMaxOpenConns(1)
	d := &DB{db: db, Now: time.Now}
	if d.migrated, err = d.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// ownerOnly makes the database file (and its WAL, shared-memory and
// journal files, when they exist) readable by its owner only: they hold
// viewers' ids, addresses and user agents, and the umask would give
// everyone read access when the data dir already exists. SQLite creates its
// side files with the main file's mode, so creating that one 0600 first is
// enough for new databases; older files are tightened.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		st, err := os.Stat(p)
		if err != nil {
			continue // no such side file
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("make %s private: %w", p, err)
			}
		}
	}
	return nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error { return storeError("ping", d.db.PingContext(ctx)) }

// Migrate applies the embedded migrations that have not run yet, each in its
// own transaction together with its schema_migrations row, and returns the
// names of those it applied.
func (d *DB) Migrate(ctx context.Context) ([]string, error) {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[string]bool{}
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		applied[n] = true
	}
	rows.Close()
	sub, _ := fs.Sub(migrations, "migration")
	pending, err := migrate.Pending(sub, applied)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, m := range pending {
		if err := d.apply(ctx, m); err != nil {
			return done, err
		}
		done = append(done, m.Name)
	}
	return done, nil
}

func (d *DB) apply(ctx context.Context, m migrate.Migration) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, m.Name, d.Now().UTC().Format(timeFormat)); err != nil {
		return fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	return tx.Commit()
}

func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s sql.NullString) time.Time {
	if !s.Valid || s.String == "" {
		return time.Time{}
	}
	t, _ := time.Parse(timeFormat, s.String)
	return t
}
