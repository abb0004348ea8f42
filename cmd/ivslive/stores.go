package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/postgres"
	"github.com/ivslive/ivslive/sqlite"
)

// history is what the history twins offer the rest of the program.
type history interface {
	ivslive.StageStore
	ivslive.SessionSink
	Ping(ctx context.Context) error
	Close() error
}

// openHistory opens PostgreSQL when configured, else SQLite in the data dir.
func (a *app) openHistory(ctx context.Context) (history, ivslive.SessionSink, ivshttp.HealthCheck, error) {
	var (
		db  history
		err error
	)
	check := ivshttp.HealthCheck{Name: "history", Mode: a.cfg.HistoryMode()}
	if a.cfg.HistoryMode() == "postgres" {
		db, err = postgres.Open(ctx, postgres.Options{
			URL: a.cfg.PostgresAddress(), Schema: a.cfg.DBSchema,
			MaxConns: int32(a.cfg.DBPoolMax), MinConns: int32(a.cfg.DBPoolMin),
		})
		if err != nil {
			return nil, nil, check, fmt.Errorf("open PostgreSQL (%s): %w", redactURL(a.cfg.PostgresAddress()), err)
		}
	} else {
		path := filepath.Join(a.cfg.DataDir, "ivslive.db")
		db, err = sqlite.Open(ctx, path)
		if err != nil {
			return nil, nil, check, fmt.Errorf("open SQLite %s: %w", path, err)
		}
		// The embedded store is on local disk: if it fails nothing works.
		check.Critical = true
	}
	a.onClose(db.Close)
	check.Probe = func(ctx context.Context) (map[string]any, error) { return nil, db.Ping(ctx) }
	return db, db, check, nil
}

// openPresence opens Redis when configured, else the in-memory store.
func (a *app) openPresence(ctx context.Context, sink ivslive.SessionSink) (ivslive.PresenceStore, ivshttp.HealthCheck, error) {
	p := memory.NewPresence(sink, nil, a.log)
	check := ivshttp.HealthCheck{Name: "presence", Mode: "memory", Critical: true,
		Probe: func(ctx context.Context) (map[string]any, error) { return nil, p.Ping(ctx) }}
	return p, check, nil
}
