package app

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"
)

// serveDebug serves Go's profiles (net/http/pprof) at /debug/pprof/ on
// DEBUG_ADDR, so a load test can show where the running server spends its
// CPU and memory (issue 17) without rebuilding it. The handlers go on a mux
// of their own, served by a listener of their own: the API mux never serves
// them, and neither does http.DefaultServeMux, where importing
// net/http/pprof also puts them. Profiles expose the program's internals
// (its stacks, its command line), so the address must be loopback
// (Validate), and the bound address is checked again after listening.
func (a *App) serveDebug(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // heap, goroutine, allocs, block, mutex, …
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// A CPU profile or trace streams for its ?seconds=; pprof refuses one
	// as long as the write timeout, so this caps them too.
	bound, err := a.serveSide("DEBUG_ADDR", addr, mux, debugMaxSeconds*time.Second, func(b net.Addr) error {
		if tcp, ok := b.(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			// A name that resolved to something else than loopback.
			return fmt.Errorf("bound %s, which is not a loopback address", b)
		}
		return nil
	})
	if err == nil {
		a.log.Info("profiles (net/http/pprof) on loopback", "addr", bound.String(), "url", "http://"+bound.String()+"/debug/pprof/")
	}
	return err
}

// debugMaxSeconds bounds a CPU profile or trace on DEBUG_ADDR (just under
// it: pprof refuses seconds ≥ the server's write timeout).
const debugMaxSeconds = 301

// loopbackAddr accepts host:port where the host is a loopback IP
// (127.0.0.0/8, ::1) or localhost.
func loopbackAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, like 127.0.0.1:6060")
	}
	ip := net.ParseIP(host)
	if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return errors.New("want a loopback address (127.0.0.1, ::1 or localhost): profiles expose the server's internals")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("want a port 0–65535")
	}
	return nil
}
