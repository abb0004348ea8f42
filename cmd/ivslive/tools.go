package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ivslive/ivslive/internal/app"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/token"
)

// runEmulator serves the IVS Real-Time emulator alone, for tools and for
// running several ivslive instances against one fake IVS.
func runEmulator(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := newFlags("emulator", "Run the IVS Real-Time emulator alone. Point ivslive (IVS_ENDPOINT) or the AWS CLI (--endpoint-url) at it.", stderr)
	addr := fs.String("addr", "127.0.0.1:4566", "address to listen on")
	data := fs.String("data", "", "directory for the emulator's state (default IVSLIVE_DATA_DIR; \"-\" keeps it in memory)")
	publicURL := fs.String("public-url", "", "URL clients reach the emulator at (default http://<addr>)")
	mediaAddr := fs.String("media-addr", "", "UDP IP:port of the WebRTC media, the IP clients reach (default EMULATOR_MEDIA_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(lookup)
	if err != nil {
		return err
	}
	if *mediaAddr != "" {
		if err := app.ValidMediaAddr(*mediaAddr); err != nil {
			return fmt.Errorf("--media-addr %q: %w", *mediaAddr, err)
		}
		cfg.EmulatorMediaAddr = *mediaAddr
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := *publicURL
	if base == "" {
		base = "http://" + app.DisplayAddr(ln.Addr())
	}
	state := filepath.Join(cfg.DataDir, "emulator.json")
	switch *data {
	case "-":
		state = ""
	case "":
	default:
		state = filepath.Join(*data, "emulator.json")
	}
	if state != "" {
		unlock, err := app.LockEmulatorState(state)
		if err != nil {
			return err
		}
		defer unlock()
	}
	log := app.NewLogger(cfg, stderr)
	if cfg.Production() {
		log.Warn("the IVS emulator is running with NODE_ENV=production: it is for development and tests, and its API has no authentication; production uses AWS")
	}
	em, err := emulator.New(emulator.Options{Region: cfg.AWSRegion, AccountID: cfg.AWSAccountID, BaseURL: base,
		MediaAddr: cfg.EmulatorMediaAddr, StatePath: state, Logger: log})
	if err != nil {
		return err
	}
	defer em.Close()
	// No ReadTimeout or WriteTimeout: WHIP and event streams may be long.
	srv := app.NewServer(em, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "IVS emulator listening on %s (state: %s)\n", base, cmp.Or(state, "memory"))
	fmt.Fprintf(stdout, "WHIP: %s/whip/<stageId> (media over UDP on %s)\n", base, cfg.EmulatorMediaAddr)
	fmt.Fprintf(stdout, "IVS events (SQS): %s (the instances' default IVS_EVENTS_QUEUE_URL with IVS_ENDPOINT=%s)\n", em.QueueURL(), base)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// keygen writes an ES384 key pair as PEM files and, with --import, imports
// the public key into the configured IVS backend and prints its ARN.
func keygen(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := newFlags("keygen", "Write an ES384 (P-384) key pair for self-signed participant tokens.", stderr)
	out := fs.String("out", ".", "directory to write ivs-private.pem and ivs-public.pem into")
	doImport := fs.Bool("import", false, "import the public key into the configured IVS backend (AWS, IVS_ENDPOINT or the embedded emulator) and print its ARN")
	name := fs.String("name", "ivslive", "name of the imported public key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	privPath, pubPath := filepath.Join(*out, "ivs-private.pem"), filepath.Join(*out, "ivs-public.pem")
	if _, err := os.Stat(privPath); err == nil {
		return fmt.Errorf("%s exists; refusing to overwrite a private key", privPath)
	}
	key, err := token.GenerateKey()
	if err != nil {
		return err
	}
	priv, err := token.EncodePrivateKey(key)
	if err != nil {
		return err
	}
	pub, err := token.EncodePublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := token.WriteFileAtomic(privPath, priv, 0o600); err != nil {
		return err
	}
	if err := token.WriteFileAtomic(pubPath, pub, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (keep it secret) and %s\n", privPath, pubPath)
	if !*doImport {
		fmt.Fprintln(stdout, "import the public key with `ivslive keygen --import`, or with the AWS CLI: aws ivs-realtime import-public-key --public-key-material file://"+pubPath)
		return nil
	}
	cfg, err := loadConfig(lookup)
	if err != nil {
		return err
	}
	pk, err := app.ImportPublicKey(ctx, cfg, app.Options{Stdout: stdout, Stderr: stderr}, *name, string(pub))
	if err != nil {
		return errors.Join(errors.New("import the public key"), err)
	}
	fmt.Fprintf(stdout, "imported into IVS (%s):\nIVS_PUBLIC_KEY_ARN=%s\nIVS_PRIVATE_KEY_FILE=%s\n", cfg.Backend(), pk.ARN, privPath)
	return nil
}

// migrate applies the history store's pending migrations and says which.
// serve applies them at start too; this is for deploy pipelines that migrate
// first.
func migrateCmd(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "Apply the database migrations of the configured history store (SQLite in IVSLIVE_DATA_DIR, or PostgreSQL).", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(lookup)
	if err != nil {
		return err
	}
	applied, err := app.Migrate(ctx, cfg, app.Options{Stdout: stdout, Stderr: stderr})
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "%s: up to date\n", cfg.HistoryMode())
		return nil
	}
	for _, m := range applied {
		fmt.Fprintf(stdout, "%s: applied %s\n", cfg.HistoryMode(), m)
	}
	return nil
}

// configCmd handles `ivslive config check`: validate the configuration and
// print the effective one, secrets redacted.
func configCmd(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := newFlags("config check", "Validate the configuration (environment and ./.env) and print the effective values, secrets redacted.", stderr)
	if len(args) == 0 || args[0] != "check" {
		fs.Usage()
		return errors.New(`usage: ivslive config check`)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(lookup)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# configuration is valid: %s\n", cfg.Modes())
	for _, line := range cfg.Redacted() {
		fmt.Fprintln(stdout, line)
	}
	return nil
}
