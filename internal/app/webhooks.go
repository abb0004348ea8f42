package app

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
// It returns nil when no target is configured.
func (a *App) openWebhooks(ctx context.Context, shared webhook.Store) (*webhook.Service, error) {
	targets, err := a.cfg.Webhooks()
	if err != nil {
		return nil, err
	}
	wc := webhook.Config{Targets: targets, MaxAge: a.cfg.WebhookMaxAge, AllowPrivate: a.cfg.WebhookAllowPrivate, UserAgent: "ivslive/" + Version()}
	if a.opts.Webhooks != nil {
		wc = *a.opts.Webhooks
	}
	if a.opts.Webhooks == nil && len(wc.Targets) == 0 {
		return nil, nil
	}
	store := shared
	if a.opts.WebhookStore != nil {
		store = a.opts.WebhookStore
	}
	if store == nil {
		path := filepath.Join(a.cfg.DataDir, "webhooks.db")
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open the webhook queue %s: %w", path, err)
		}
		a.onClose(db.Close)
		if store, err = sqlite.NewWebhooks(ctx, db, webhook.DefaultArchiveSize, webhook.DefaultLogSize); err != nil {
			return nil, err
		}
	}
	svc := webhook.New(store, wc, a.opts.Now, a.log, a.metrics)
	a.workers = append(a.workers, svc.Run)
	a.metrics.WatchWebhooks(svc.Queued)
	names := make([]string, len(wc.Targets))
	for i, t := range wc.Targets {
		names[i] = t.Name + " " + t.Redacted()
	}
	a.log.Info("webhooks on", "targets", names, "maxAge", wc.MaxAge, "allowPrivate", wc.AllowPrivate)
	return svc, nil
}
