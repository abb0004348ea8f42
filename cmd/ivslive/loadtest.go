package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ivslive/ivslive/loadtest"
)

// loadtestCmd simulates viewers against a running server (ivslive or the
// Node server) and prints throughput, latency percentiles, errors and
// whether the server's live count matched the simulated audience.
func loadtestCmd(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := newFlags("loadtest", `Simulate viewers against a server: each joins (viewer token), heartbeats, and
at the end leaves or goes silent. Prints requests/s, latency percentiles per
route, errors, and how often the server's live count matched the simulation.
The key defaults to API_SECRET_KEY, then to the data dir's generated api-key.
The server's rate limits apply: raise RATE_LIMIT_HEARTBEAT_MAX and
RATE_LIMIT_MAX_REQUESTS (0 turns them off) on a server under heavy test.`, stderr)
	url := fs.String("url", "", "server base URL (default http://127.0.0.1:API_PORT)")
	key := fs.String("key", "", "API key with the admin scope (default API_SECRET_KEY, then IVSLIVE_DATA_DIR/api-key)")
	viewers := fs.Int("viewers", 1000, "simulated viewers")
	ramp := fs.Duration("ramp", 10*time.Second, "time over which the viewers join")
	duration := fs.Duration("duration", time.Minute, "length of the run, ramp included")
	warmup := fs.Duration("warmup", 0, "leave the run's first part out of the figures (e.g. the ramp's joins), to report the steady state")
	interval := fs.Duration("interval", 30*time.Second, "heartbeat interval per viewer (±10 % jitter); 0 heartbeats back to back (closed loop, for throughput)")
	concurrency := fs.Int("concurrency", loadtest.DefaultConcurrency, "requests in flight at most")
	leave := fs.Float64("leave", 0.5, "share of viewers (0–1) that leave at the end; the others go silent")
	silent := fs.Float64("silent", 0, "share of viewers (0–1) that stop heartbeating at --silent-at, so the server's expiry sweeps run during the measured run")
	silentAt := fs.Duration("silent-at", 0, "when (from the start) the --silent viewers send their last heartbeat")
	auth := fs.String("auth", loadtest.AuthKey, `how heartbeats and leaves authenticate: "key" (x-api-key) or "session" (the viewer's session token)`)
	timeout := fs.Duration("viewer-timeout", 0, "the server's VIEWER_TIMEOUT, for the accuracy model (default from the configuration)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	serve := fs.Bool("serve", false, "start the server itself (this binary, a fresh data dir, no rate limits, stages of --stage-seats, the host streaming), sample its resident size and Go heap, mark its checkpoints and expiry sweeps in the heartbeat latency, and restart it gracefully at the end, reporting the restart and the viewers it kept")
	checkpoint := fs.Duration("checkpoint", 10*time.Second, "with --serve: SNAPSHOT_INTERVAL of the server (snapshots and checkpoints during the run)")
	perStage := fs.Int("stage-seats", 25000, "with --serve: MAX_VIEWERS_PER_STAGE of the server; past the six stages the host's media reaches (the master and 5 replicas), viewers go to playback")
	profile := fs.String("profile", "", "with --serve: write the server's profiles into this directory (DEBUG_ADDR on loopback): cpu.pprof, a CPU profile of min(--checkpoint, 30 s) from the first checkpoint after --warmup, and heap.pprof at the end of the run; read them with go tool pprof -top")
	stream := fs.Bool("stream", false, "publish the built-in test pattern over WHIP as the host (embedded mode), so the scaler replicates it into new stages and seats viewers there; default with --serve")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest: unexpected argument %q", fs.Arg(0))
	}
	if *serve && !flagSet(fs, "stream") {
		*stream = true
	}
	if *profile != "" && !*serve {
		return errors.New("loadtest: --profile needs --serve (the profiles are the started server's)")
	}
	if *perStage < 2 || *perStage > 25000 {
		return errors.New("loadtest: --stage-seats must be 2–25000 (MAX_VIEWERS_PER_STAGE)")
	}
	cfg, err := loadConfig(lookup)
	if err != nil {
		return err
	}
	var srv *scaleServer
	if *serve {
		dir, err := os.MkdirTemp("", "ivslive-loadtest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		so := scaleOptions{viewers: *viewers, checkpoint: *checkpoint, perStage: *perStage}
		if *profile != "" {
			if so.profile, err = newProfiler(*profile, *checkpoint); err != nil {
				return err
			}
		}
		if srv, err = startScaleServer(ctx, dir, so); err != nil {
			return err
		}
		defer srv.stop()
		if srv.redis = newRedisProbe(cfg.RedisURL, stderr); srv.redis != nil {
			go srv.redis.sample(ctx)
		}
		*url, *key = srv.url, srv.key
	}
	if *url == "" {
		*url = fmt.Sprintf("http://127.0.0.1:%d", cfg.Port)
	}
	if *key, err = clientKey(cfg, *key, "loadtest"); err != nil {
		return err
	}
	if *timeout == 0 {
		*timeout = cfg.ViewerTimeout
	}
	if *stream {
		// The host publishes for the whole run; the restart ends its
		// connection with the server's.
		pctx, stopPub := context.WithCancel(ctx)
		defer stopPub()
		pub, err := streamPublisher(pctx, *url, *key)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "publishing the test pattern to %s\n", pub.Location())
	}
	o := loadtest.Options{URL: *url, Key: *key, Viewers: *viewers, Ramp: *ramp, Duration: *duration, Warmup: *warmup,
		Interval: *interval, Concurrency: *concurrency, LeaveRatio: *leave, SilentRatio: *silent, SilentAt: *silentAt, Auth: *auth, Publisher: !*stream,
		Timeout: *timeout, Terminal: isTerminal(stderr)}
	if srv != nil {
		o.SeriesEvery = 5 * time.Second
	}
	if srv != nil && srv.profile != nil {
		pctx, stopProfile := context.WithCancel(ctx)
		defer stopProfile()
		go srv.profile.cpu(pctx, srv, time.Now(), *warmup) // the run starts now
	}
	// Progress goes to stderr, so stdout carries only the report (--json).
	report, err := loadtest.Run(ctx, o, stderr)
	if report == nil {
		return err
	}
	if *asJSON {
		if werr := report.WriteJSON(stdout); werr != nil {
			return werr
		}
	} else {
		report.WriteText(stdout)
	}
	for _, r := range report.Routes {
		if r.Errors[429] > 0 {
			fmt.Fprintln(stderr, "note: the server rate-limited the test (429); raise RATE_LIMIT_HEARTBEAT_MAX and RATE_LIMIT_MAX_REQUESTS on it, or set them to 0")
			break
		}
	}
	if errors.Is(err, context.Canceled) {
		return nil // interrupted: the partial report is the answer
	}
	if err == nil && srv != nil {
		w := stdout
		if *asJSON {
			w = stderr // stdout is the JSON report alone
		}
		err = srv.restartAndReport(w, report)
	}
	return err
}

// restartAndReport restarts the --serve server gracefully, reports the run
// as the server saw it, and fails when the restart lost or resurrected
// viewers or a request failed: CI runs it as the scale harness's smoke
// test, where either is a regression.
func (s *scaleServer) restartAndReport(w io.Writer, report *loadtest.Report) error {
	s.joined = report.Totals.Joined
	if s.profile != nil {
		s.profile.heap(context.Background())
	}
	rs, err := s.restart()
	if err != nil {
		return err
	}
	s.report(w, report, rs)
	if s.profile != nil {
		s.profile.report(w)
	}
	if rs.after.Total != rs.before.Total {
		return fmt.Errorf("loadtest: %d viewers live after the restart, %d before", rs.after.Total, rs.before.Total)
	}
	if n := report.Totals.Errors; n > 0 {
		return fmt.Errorf("loadtest: %d requests failed (see the report's errors column)", n)
	}
	return nil
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// clientKey returns the API key a client command (loadtest, publish) sends
// to a server: the --key flag, else API_SECRET_KEY, else the key the server
// generated into the data dir.
func clientKey(cfg Config, flagKey, cmd string) (string, error) {
	if flagKey != "" {
		return flagKey, nil
	}
	if cfg.APISecretKey != "" {
		return cfg.APISecretKey, nil
	}
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, "api-key"))
	if err != nil {
		return "", fmt.Errorf("%s: no key: pass --key, set API_SECRET_KEY, or run from the server's directory (IVSLIVE_DATA_DIR/api-key)", cmd)
	}
	return strings.TrimSpace(string(b)), nil
}

// isTerminal reports whether w is a character device (a terminal), where
// the progress line can be rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
