package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profiler is `loadtest --serve --profile DIR`: it takes the server's own
// profiles through its DEBUG_ADDR (net/http/pprof on loopback), so a target
// the run misses comes with where the time and the memory went (issue 17):
// a CPU profile of the first checkpoint after the warmup, and a heap
// profile at the end of the run, before the graceful restart.
type profiler struct {
	dir string
	url string // the debug listener, http://127.0.0.1:port
	// interval is the server's SNAPSHOT_INTERVAL: its checkpoints run on a
	// ticker of that period.
	interval time.Duration

	stop    chan struct{} // closed at the end of the run
	cpuDone chan struct{} // closed when the CPU profile is written or given up
	mu      sync.Mutex
	lines   []string // what was written or why not, for the report
}

// newProfiler makes dir (before the server starts, so a bad one fails
// first) for the profiles of a server with checkpoints every interval.
func newProfiler(dir string, interval time.Duration) (*profiler, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("loadtest: --profile: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("loadtest: --profile: %w", err)
	}
	return &profiler{dir: abs, interval: interval, stop: make(chan struct{}), cpuDone: make(chan struct{})}, nil
}

// cpuSeconds is how long the CPU profile runs: one checkpoint period, at
// most 30 s.
func (p *profiler) cpuSeconds() int { return max(1, int(min(p.interval, 30*time.Second)/time.Second)) }

// cpu waits for the warmup to end, then profiles the server's CPU for
// cpuSeconds from just before the first checkpoint tick after it. The
// server logs a checkpoint only when it ends, so the tick is predicted:
// checkpoints begin on a ticker, every interval after any earlier one.
func (p *profiler) cpu(ctx context.Context, s *scaleServer, start time.Time, warmup time.Duration) {
	defer close(p.cpuDone)
	warmupEnd := start.Add(warmup)
	if !p.wait(ctx, time.Until(warmupEnd)) {
		return
	}
	last, ok := s.lastCheckpoint()
	for !ok {
		if !p.wait(ctx, 100*time.Millisecond) {
			return
		}
		last, ok = s.lastCheckpoint()
	}
	// The profile starts a little before the tick: the ticker's phase is
	// read from the log, a few milliseconds late.
	lead := min(p.interval/10, time.Second)
	tick := nextTick(last.span().From, p.interval, maxTime(warmupEnd, time.Now().Add(lead)))
	if !p.wait(ctx, time.Until(tick.Add(-lead))) {
		return
	}
	n := p.cpuSeconds()
	p.fetch(ctx, fmt.Sprintf("CPU for %d s from the checkpoint due at +%.1fs", n, tick.Sub(start).Seconds()),
		fmt.Sprintf("/debug/pprof/profile?seconds=%d", n), "cpu.pprof", time.Duration(n)*time.Second+time.Minute)
}

// wait waits d, and reports false if the run ended first (noting that the
// CPU profile was not taken) or ctx is done.
func (p *profiler) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-p.stop:
		p.note("no CPU profile: the run ended before the first checkpoint after the warmup")
		return false
	}
}

// nextTick is the first tick of a ticker that ticked at tick, every
// interval, at or after after.
func nextTick(tick time.Time, interval time.Duration, after time.Time) time.Time {
	if !tick.Before(after) {
		return tick
	}
	k := (after.Sub(tick) + interval - 1) / interval
	return tick.Add(k * interval)
}

// heap ends the run's profiling: it waits for a CPU profile in progress,
// then takes the heap after a collection (what the live viewers hold).
func (p *profiler) heap(ctx context.Context) {
	close(p.stop)
	<-p.cpuDone
	p.fetch(ctx, "heap at the end of the run, after a collection", "/debug/pprof/heap?gc=1", "heap.pprof", time.Minute)
}

// fetch writes the profile at path of the debug listener into the file
// name within timeout, and notes it (or the failure) for the report.
func (p *profiler) fetch(ctx context.Context, what, path, name string, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, "GET", p.url+path, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return fmt.Errorf("%s: %s", resp.Status, b)
		}
		f, err := os.OpenFile(filepath.Join(p.dir, name), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}()
	if err != nil {
		p.note(fmt.Sprintf("no %s profile: GET %s: %v", name, path, err))
		return
	}
	file := filepath.Join(p.dir, name)
	p.note(fmt.Sprintf("%s: %s\n    go tool pprof -top %s", what, file, file))
}

func (p *profiler) note(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, line)
}

// report lists the profiles written, with the command that reads each.
func (p *profiler) report(w io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(w, "\nprofiles of the server (DEBUG_ADDR):")
	for _, l := range p.lines {
		fmt.Fprintln(w, "  "+l)
	}
}

// lastCheckpoint is the latest checkpoint the server logged.
func (s *scaleServer) lastCheckpoint() (serverEvent, bool) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	for i := len(s.events) - 1; i >= 0; i-- {
		if s.events[i].kind == "checkpoint" {
			return s.events[i], true
		}
	}
	return serverEvent{}, false
}

// freePort is a loopback port free at the time of asking, for a listener
// of the child server.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
