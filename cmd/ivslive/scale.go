package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// scaleServer is `ivslive loadtest --serve`: the real binary started in a
// fresh data dir with short checkpoints, its resident size sampled, and a
// graceful restart at the end, so one command measures what an operator
// would see (issue 17).
type scaleServer struct {
	env   []string
	url   string
	key   string
	cmd   *exec.Cmd
	start time.Time

	mu  sync.Mutex
	rss []rssSample
}

type rssSample struct {
	at  time.Duration
	rss int64
}

// serverCommand starts the server; tests replace it with their own binary.
var serverCommand = func() *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.Command(exe, "serve")
}

// startScaleServer starts the server sized for viewers, checkpointing every
// checkpoint, in dir.
func startScaleServer(ctx context.Context, dir string, viewers int, checkpoint time.Duration) (*scaleServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	b := make([]byte, 24)
	rand.Read(b)
	perStage := 25000
	s := &scaleServer{key: hex.EncodeToString(b), url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	s.env = append(os.Environ(), "API_PORT="+strconv.Itoa(port), "API_SECRET_KEY="+s.key, "IVSLIVE_DATA_DIR="+dir,
		"RATE_LIMIT_MAX_REQUESTS=0", "RATE_LIMIT_HEARTBEAT_MAX=0",
		"SNAPSHOT_INTERVAL="+strconv.Itoa(max(1, int(checkpoint/time.Second))),
		"MAX_VIEWERS_PER_STAGE="+strconv.Itoa(perStage), "SCALE_UP_THRESHOLD="+strconv.Itoa(perStage),
		"MAX_STAGES="+strconv.Itoa(min(1000, viewers/perStage+2)),
		"MAX_CONCURRENT_SUBSCRIPTIONS="+strconv.Itoa(max(20000, 2*viewers)))
	if err := s.launch(); err != nil {
		return nil, err
	}
	go s.sample(ctx)
	return s, nil
}

// launch runs the server and waits until it listens.
func (s *scaleServer) launch() error {
	s.cmd = serverCommand()
	s.cmd.Env = s.env
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	s.cmd.Stderr = io.Discard
	s.start = time.Now()
	if err := s.cmd.Start(); err != nil {
		return err
	}
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
			s.cmd.Wait()
			return fmt.Errorf("loadtest: the server exited before listening (%v)", s.cmd.ProcessState)
		}
		return nil
	case <-time.After(5 * time.Minute):
		s.cmd.Process.Kill()
		return fmt.Errorf("loadtest: the server did not listen within 5 minutes")
	}
}

// sample reads the server's resident size every second.
func (s *scaleServer) sample(ctx context.Context) {
	t0 := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.mu.Lock()
		if s.cmd.Process != nil {
			if rss := processRSS(s.cmd.Process.Pid); rss > 0 {
				s.rss = append(s.rss, rssSample{time.Since(t0), rss})
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

// viewers asks the server for its live count.
func (s *scaleServer) viewers() (int, error) {
	req, _ := http.NewRequest("GET", s.url+"/api/stats/viewers", nil)
	req.Header.Set("X-Api-Key", s.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var e struct {
		Data struct {
			TotalViewers int `json:"totalViewers"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&e)
	return e.Data.TotalViewers, err
}

// restart stops the server gracefully, starts it again and writes what it
// took and what came back, then the resident size over the run.
func (s *scaleServer) restart(w io.Writer) error {
	before, err := s.viewers()
	if err != nil {
		return err
	}
	t := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	stopped := time.Since(t)
	s.mu.Lock()
	err = s.launch()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	started := time.Since(s.start)
	after, err := s.viewers()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\ngraceful restart: %d live before SIGTERM, stopped in %s (final checkpoint included), listening again %s later (restore included) with %d live\n",
		before, stopped.Round(time.Millisecond), started.Round(time.Millisecond), after)
	s.mu.Lock()
	defer s.mu.Unlock()
	var peak int64
	fmt.Fprint(w, "RSS MiB every 5 s:")
	for i, r := range s.rss {
		peak = max(peak, r.rss)
		if i%5 == 0 {
			fmt.Fprintf(w, " %d", r.rss>>20)
		}
	}
	fmt.Fprintf(w, "\nRSS peak %d MiB", peak>>20)
	if before > 0 && len(s.rss) > 0 {
		fmt.Fprintf(w, ", %d B per live viewer above the server at start", (peak-s.rss[0].rss)/int64(before))
	}
	fmt.Fprintln(w)
	if after != before {
		return fmt.Errorf("loadtest: %d viewers live after the restart, %d before", after, before)
	}
	return nil
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
