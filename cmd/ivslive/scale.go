package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ivslive/ivslive/internal/app"
)

// scaleServer is `ivslive loadtest --serve`: the real binary started in a
// fresh data dir with short checkpoints, its resident size and Go heap
// sampled and its log read for the background work, and a graceful restart
// at the end, so one command measures what an operator would see (issue
// 17).
type scaleServer struct {
	env   []string
	url   string
	key   string
	cmd   *exec.Cmd
	start time.Time
	// seats is the real-time seats the pool can hold (the master and the
	// stages the host can be replicated into); viewers past them go to
	// playback.
	seats int

	mu      sync.Mutex // guards cmd for the sampler, and samples
	samples []memSample
	logMu   sync.Mutex
	events  []serverEvent
	logTail []string // the server's last log lines, for errors
	// heapStart is the Go heap in use before the first viewer.
	heapStart int64
	// redis reads the Redis of a run in Redis mode (nil in embedded mode).
	redis *redisProbe
	// joined is the run's viewers whose join succeeded, for the Redis
	// peak per viewer.
	joined int
	// profile takes the server's profiles (nil without --profile).
	profile *profiler
}

// memSample is one reading of the server's memory.
type memSample struct {
	at        time.Time
	rss, heap int64   // heap 0: not read this time
	load      float64 // the machine's 1-minute load average
	// gcs and gcPause are the server's garbage collections so far and
	// their stop-the-world time (go_gc_duration_seconds), read with heap.
	gcs     int64
	gcPause float64
}

// serverCommand starts the server; tests replace it with their own binary.
var serverCommand = func() *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.Command(exe, "serve")
}

// scaleOptions size the server of a --serve run.
type scaleOptions struct {
	viewers    int
	checkpoint time.Duration // SNAPSHOT_INTERVAL
	perStage   int           // MAX_VIEWERS_PER_STAGE
	profile    *profiler     // with --profile: DEBUG_ADDR is set for it
}

// startScaleServer starts the server sized for o in dir.
func startScaleServer(ctx context.Context, dir string, o scaleOptions) (*scaleServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 24)
	rand.Read(b)
	s := &scaleServer{key: hex.EncodeToString(b), url: fmt.Sprintf("http://127.0.0.1:%d", port),
		seats: (app.MaxReplicas + 1) * o.perStage}
	// The pool is the master plus the stages the host's media is replicated
	// into (IVS allows 5), so seats stop at 6 stages; PLAYBACK_ENABLED sends
	// the audience past them to the channel, as in production. The scaler
	// looks every 2 s so a replica is seated soon after IVS reports it.
	s.env = append(os.Environ(), "API_PORT="+strconv.Itoa(port), "API_SECRET_KEY="+s.key, "IVSLIVE_DATA_DIR="+dir,
		"RATE_LIMIT_MAX_REQUESTS=0", "RATE_LIMIT_HEARTBEAT_MAX=0", "HEALTH_CHECK_INTERVAL=2",
		"SNAPSHOT_INTERVAL="+strconv.Itoa(max(1, int(o.checkpoint/time.Second))),
		"MAX_VIEWERS_PER_STAGE="+strconv.Itoa(o.perStage), "SCALE_UP_THRESHOLD="+strconv.Itoa(o.perStage),
		"SCALE_DOWN_THRESHOLD="+strconv.Itoa(min(5, o.perStage-1)),
		"MAX_STAGES="+strconv.Itoa(app.MaxReplicas+2),
		"MAX_CONCURRENT_SUBSCRIPTIONS="+strconv.Itoa(max(20000, 2*o.viewers)),
		"PLAYBACK_ENABLED="+strconv.FormatBool(o.viewers > s.seats))
	if s.profile = o.profile; s.profile != nil {
		debug, err := freePort()
		if err != nil {
			return nil, err
		}
		s.profile.url = fmt.Sprintf("http://127.0.0.1:%d", debug)
		s.env = append(s.env, "DEBUG_ADDR=127.0.0.1:"+strconv.Itoa(debug))
	}
	if err := s.launch(); err != nil {
		return nil, err
	}
	s.heapStart, _, _ = s.metrics()
	go s.sample(ctx)
	return s, nil
}

// launch runs the server and waits until it listens.
func (s *scaleServer) launch() error {
	cmd := serverCommand()
	cmd.Env = s.env
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	// A writer, not a pipe: Wait returns once the last line (the final
	// checkpoint's) has been read.
	cmd.Stderr = &lineWriter{line: s.logLine}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.cmd, s.start = cmd, start
	s.mu.Unlock()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ivslive listening on ") {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			s.mu.Lock()
			cmd.Wait()
			s.mu.Unlock()
			return fmt.Errorf("loadtest: the server exited before listening (%v): %s", cmd.ProcessState, s.tail())
		}
		return nil
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		return fmt.Errorf("loadtest: the server did not listen within 5 minutes")
	}
}

// sample reads the server's resident size every second and its Go heap
// every 5 s (each /metrics read stops the world briefly).
func (s *scaleServer) sample(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		m := memSample{at: time.Now(), load: loadAverage()}
		if i%5 == 0 {
			m.heap, m.gcs, m.gcPause = s.metrics()
		}
		s.mu.Lock()
		if s.cmd.Process != nil && s.cmd.ProcessState == nil {
			if m.rss = processRSS(s.cmd.Process.Pid); m.rss > 0 {
				s.samples = append(s.samples, m)
			}
		}
		s.mu.Unlock()
	}
}

// processRSS reads a process's resident size from /proc (0 elsewhere).
func processRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// metrics reads go_memstats_heap_inuse_bytes and the count and sum of
// go_gc_duration_seconds from the server's /metrics (0 when it cannot), so
// a latency spike can be set beside the collections in its window.
func (s *scaleServer) metrics() (heap, gcs int64, gcPause float64) {
	req, _ := http.NewRequest("GET", s.url+"/metrics", nil)
	req.Header.Set("X-Api-Key", s.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
		switch name {
		case "go_memstats_heap_inuse_bytes":
			heap = int64(f)
		case "go_gc_duration_seconds_count":
			gcs = int64(f)
		case "go_gc_duration_seconds_sum":
			gcPause = f
		}
	}
	return heap, gcs, gcPause
}

// liveCount is the server's live audience.
type liveCount struct {
	Total    int `json:"totalViewers"`
	Realtime int `json:"realtimeViewers"`
	Playback int `json:"playbackViewers"`
	// Stages is how many stages hold real-time viewers.
	Stages int `json:"-"`
}

// viewers asks the server for its live count and its stages.
func (s *scaleServer) viewers() (liveCount, error) {
	req, _ := http.NewRequest("GET", s.url+"/api/stats", nil)
	req.Header.Set("X-Api-Key", s.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return liveCount{}, err
	}
	defer resp.Body.Close()
	var e struct {
		Data struct {
			liveCount
			Stages []struct {
				Viewers int `json:"viewerCount"`
			} `json:"stages"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		return liveCount{}, fmt.Errorf("loadtest: GET /api/stats: %w", err)
	}
	c := e.Data.liveCount
	for _, st := range e.Data.Stages {
		if st.Viewers > 0 {
			c.Stages++
		}
	}
	return c, nil
}

// restart stops the server gracefully and starts it again, and returns
// what it took and what came back.
func (s *scaleServer) restart() (restartResult, error) {
	var r restartResult
	var err error
	if r.before, err = s.viewers(); err != nil {
		return r, err
	}
	if s.redis != nil {
		// Before SIGTERM: what the run left in Redis, not the restart.
		var b bytes.Buffer
		s.redis.report(&b, r.before.Total, s.joined)
		r.redis = b.String()
	}
	t := time.Now()
	s.mu.Lock() // the sampler must not read a process that is gone
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	s.mu.Unlock()
	r.stopped = time.Since(t)
	if err = s.launch(); err != nil {
		return r, err
	}
	r.listening = time.Since(s.start)
	r.after, err = s.viewers()
	return r, err
}

// restartResult is what a graceful restart took and kept.
type restartResult struct {
	before, after      liveCount
	stopped, listening time.Duration
	redis              string // the Redis figures at the end of the run
}

// stop ends the server.
func (s *scaleServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.cmd.Wait()
	}
}

// logLine keeps the server's background work from its log (see
// serverEvent) and its last lines.
func (s *scaleServer) logLine(line string) {
	ev, ok := parseServerEvent(line)
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if ok {
		s.events = append(s.events, ev)
	}
	s.logTail = append(s.logTail, line)
	if len(s.logTail) > 20 {
		s.logTail = s.logTail[1:]
	}
}

// lineWriter calls line with each complete line written to it.
type lineWriter struct {
	line func(string)
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// tail is the server's last log lines.
func (s *scaleServer) tail() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return strings.Join(s.logTail, "\n")
}
