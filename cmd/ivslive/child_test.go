package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as the program in a child process: the
// crash tests start it with IVSLIVE_TEST_SERVE=1 (and the command line in
// IVSLIVE_TEST_ARGS, default serve) and kill it with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("IVSLIVE_TEST_SERVE") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, strings.Fields(os.Getenv("IVSLIVE_TEST_ARGS")), os.LookupEnv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "ivslive:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is the server running in another process.
type child struct {
	cmd *exec.Cmd
	url string
}

// startChild runs the server in dir with exactly env (plus PATH and HOME)
// and waits until it listens.
func startChild(t *testing.T, dir string, env map[string]string) *child {
	t.Helper()
	return startProgram(t, dir, env, "", "ivslive listening on ")
}

// startEmulatorChild runs `ivslive emulator` with its state in dir and
// waits until it listens.
func startEmulatorChild(t *testing.T, dir string) *child {
	t.Helper()
	return startProgram(t, dir, nil, "emulator --addr 127.0.0.1:0 --data "+dir, "IVS emulator listening on ")
}

// startProgram runs the program with the command line args in dir with
// exactly env (plus PATH and HOME), and waits for the line that starts with
// ready and goes on with its URL.
func startProgram(t *testing.T, dir string, env map[string]string, args, ready string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = dir
	cmd.Env = []string{"IVSLIVE_TEST_SERVE=1", "IVSLIVE_TEST_ARGS=" + args, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	var logsMu sync.Mutex
	cmd.Stderr = writerFunc(func(b []byte) (int, error) { logsMu.Lock(); defer logsMu.Unlock(); return logs.Write(b) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		if t.Failed() { // the child's last words explain most failures
			logsMu.Lock()
			defer logsMu.Unlock()
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			t.Logf("last log lines of the child in %s:\n%s", dir, strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), ready); ok {
				u, _, _ = strings.Cut(u, " ") // the emulator adds its state file
				found <- u
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			cmd.Wait()
			logsMu.Lock()
			defer logsMu.Unlock()
			t.Fatalf("child exited before listening:\n%s", logs.String())
		}
		c.url = u
	case <-time.After(60 * time.Second):
		t.Fatal("child did not start within 60 s")
	}
	return c
}

// kill ends the child with SIGKILL: no shutdown code runs.
func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

// stop ends the child gracefully.
func (c *child) stop(t *testing.T) {
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Error("child did not stop within 30 s")
		c.cmd.Process.Kill()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// client talks to a server with the test's API key.
type client struct {
	url, key string
	http     *http.Client
}

// do sends one request and returns the status and the envelope's data, or,
// for an error answer without data, its error object (code and message).
func (c client) do(method, path string, body any) (int, json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var e struct {
		Data  json.RawMessage `json:"data"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		return resp.StatusCode, nil, err
	}
	if len(e.Data) == 0 && len(e.Error) > 0 {
		return resp.StatusCode, e.Error, nil // an error answer: its code and message
	}
	return resp.StatusCode, e.Data, nil
}

// proxy forwards TCP to a target and can cut every connection, standing in
// for a database that goes away and comes back on the same address, or
// freeze: keep every connection open and accept new ones, but forward
// nothing, standing in for a database that stopped answering.
type proxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	thawed chan struct{} // non-nil while frozen; closed by thaw
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.thaw(); p.down() })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = true, true
			p.mu.Unlock()
			go p.pipe(out, in)
			go p.pipe(in, out)
		}
	}()
}

// pipe copies src to dst, holding what it read while the proxy is frozen.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			thawed := p.thawed
			p.mu.Unlock()
			if thawed != nil {
				<-thawed
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze stops forwarding (connections stay open, new ones are accepted).
func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.thawed == nil {
		p.thawed = make(chan struct{})
	}
}

// thaw forwards again, including what was held.
func (p *proxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.thawed != nil {
		close(p.thawed)
		p.thawed = nil
	}
}

// down stops listening and cuts every connection.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// up listens again on the same address.
func (p *proxy) up(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}
