package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ivslive/ivslive/sqlite"
	"github.com/ivslive/ivslive/webhook"
)

// openWebhooks starts the webhook service when targets are configured, on
// the queue shared through Redis, or else on a SQLite file of its own in
// the data dir (one process: embedded mode, or PostgreSQL without Redis).
// It reports false when no target is configured.
func (a *app) openWebhooks(ctx context.Context, shared webhook.Store) (*webhook.Service, bool, error) {
	targets, err := a.cfg.Webhooks()
	if err != nil || len(targets) == 0 {
		return nil, false, err
	}
	store := shared
	if store == nil {
		path := filepath.Join(a.cfg.DataDir, "webhooks.db")
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, false, fmt.Errorf("open the webhook queue %s: %w", path, err)
		}
		a.onClose(db.Close)
		if store, err = sqlite.NewWebhooks(ctx, db, webhook.DefaultArchiveSize, webhook.DefaultLogSize); err != nil {
			return nil, false, err
		}
	}
	svc := webhook.New(store, webhook.Config{Targets: targets, MaxAge: a.cfg.WebhookMaxAge, AllowPrivate: a.cfg.WebhookAllowPrivate,
		UserAgent: "ivslive/" + versionString()}, nil, a.log, a.metrics)
	a.workers = append(a.workers, svc.Run)
	a.metrics.WatchWebhooks(svc.Queued)
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name + " " + t.Redacted()
	}
	a.log.Info("webhooks on", "targets", names, "maxAge", a.cfg.WebhookMaxAge, "allowPrivate", a.cfg.WebhookAllowPrivate)
	return svc, true, nil
}
