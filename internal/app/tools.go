package app

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/ivslive/ivslive"
)

// Migrate opens the configured history store, which applies its pending
// migrations, and returns their names (none: up to date).
func Migrate(ctx context.Context, cfg Config, o Options) ([]string, error) {
	a := base(cfg, o)
	defer a.Close()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create IVSLIVE_DATA_DIR: %w", err)
	}
	hist, err := a.openHistory(ctx)
	if err != nil {
		return nil, err
	}
	return hist.db.Migrated(), nil
}

// ImportPublicKey imports a token signing key's public half (PEM) into the
// configured IVS (AWS, IVS_ENDPOINT or an embedded emulator started for the
// occasion) under name, and returns it with its ARN.
func ImportPublicKey(ctx context.Context, cfg Config, o Options, name, pem string) (ivslive.PublicKey, error) {
	a := base(cfg, o)
	defer a.Close()
	var err error
	if a.listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return ivslive.PublicKey{}, err
	}
	a.onClose(a.listener.Close)
	iv, err := a.openIVS(ctx, nil)
	if err != nil {
		return ivslive.PublicKey{}, err
	}
	return iv.client.ImportPublicKey(ctx, name, pem, map[string]string{"ManagedBy": "ivslive"})
}
