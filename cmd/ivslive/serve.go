package main

import (
	"context"
	"io"

	"github.com/ivslive/ivslive/internal/app"
)

// serve loads the configuration, opens the application and runs it until
// ctx is done.
func serve(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := newFlags("serve", "Serve the API. Configuration comes from environment variables and ./.env (see .env.example).", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(lookup)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{Stdout: stdout, Stderr: stderr})
	if err != nil {
		return err
	}
	// The memory limit is the process's: set by the command, never by the
	// application (tests start many in one process).
	setMemoryLimit(cfg, app.NewLogger(cfg, stderr))
	return a.Run(ctx)
}
