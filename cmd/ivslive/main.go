// Command ivslive is the control plane for live streaming on AWS IVS
// Real-Time: one binary that serves the API (serve, the default), runs the IVS
// emulator alone (emulator), writes signing keys (keygen), migrates the
// database (migrate), checks the configuration (config check), load-tests a
// server (loadtest), publishes a test pattern over WHIP (publish) and prints
// its version (version). The application is wired in internal/app.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ivslive/ivslive/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ivslive:", err)
		}
		os.Exit(1)
	}
}

const usage = `ivslive: the control plane for live streaming on AWS IVS Real-Time.

Usage:
  ivslive [serve]          serve the API (the default); configured by environment variables and ./.env
  ivslive emulator         run the IVS Real-Time emulator alone
  ivslive keygen           write an ES384 key pair for self-signed tokens (--import to import it into IVS)
  ivslive migrate          apply the database migrations (serve does it at start too)
  ivslive config check     validate the configuration and print it, secrets redacted
  ivslive loadtest         simulate viewers against a server and report throughput, latency and accuracy
  ivslive publish          send a test pattern (H.264 + Opus) to a stage over WHIP
  ivslive version          print the version

Run "ivslive <command> --help" for a command's flags. Configuration: see README.md or .env.example.
`

// run is main without the process: tests call it with their own arguments,
// environment and output.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	cmd := "serve"
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help"):
		cmd = "help"
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, lookup, stdout, stderr)
	case "emulator":
		return runEmulator(ctx, args, lookup, stdout, stderr)
	case "keygen":
		return keygen(ctx, args, lookup, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args, lookup, stdout, stderr)
	case "config":
		return configCmd(args, lookup, stdout, stderr)
	case "loadtest":
		return loadtestCmd(ctx, args, lookup, stdout, stderr)
	case "publish":
		return publishCmd(ctx, args, lookup, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, app.Version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// Config is every setting ivslive reads (app.Config).
type Config = app.Config

// loadConfig reads the environment and ./.env.
func loadConfig(lookup func(string) (string, bool)) (Config, error) {
	dotenv, err := app.ReadDotenv(".env")
	if err != nil {
		return Config{}, fmt.Errorf("read .env: %w", err)
	}
	return app.LoadConfig(lookup, dotenv)
}

func newFlags(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ivslive "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ivslive %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}
