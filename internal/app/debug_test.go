package app

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/ivslive/ivslive/internal/testenv"
)

// DEBUG_ADDR serves the heap profile on its own loopback listener, whose
// bound address is logged (port 0 picks one), and the API does not serve
// /debug/pprof at all, with or without a key.
func TestDebugListenerServesProfiles(t *testing.T) {
	t.Chdir(t.TempDir())
	const key = "test-admin-key-0123456789"
	cfg, err := LoadConfig(lookupFrom(map[string]string{"API_PORT": "0", "API_SECRET_KEY": key, "DEBUG_ADDR": "127.0.0.1:0"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	var log testenv.Buffer
	a, err := New(context.Background(), cfg, Options{Stderr: &log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	defer func() { stop(); <-ran }()

	m := regexp.MustCompile(`msg="profiles \(net/http/pprof\) on loopback" addr=(127\.0\.0\.1:\d+) `).FindStringSubmatch(log.String())
	if m == nil || strings.HasSuffix(m[1], ":0") {
		t.Fatalf("no bound debug address in the log:\n%s", log.String())
	}
	status, body := get(t, "http://"+m[1]+"/debug/pprof/heap", "")
	// A profile is gzipped protobuf.
	if status != http.StatusOK || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Errorf("GET /debug/pprof/heap on DEBUG_ADDR: %d, %d bytes starting %q; want 200 and a gzipped profile", status, len(body), body[:min(len(body), 16)])
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		for _, k := range []string{"", key} {
			if status, body := get(t, a.URL()+path, k); status != http.StatusNotFound {
				t.Errorf("the API answers GET %s (key %t): %d %.80q, want 404", path, k != "", status, body)
			}
		}
	}
}

func get(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Profiles expose the server's internals: DEBUG_ADDR is refused, naming
// the variable, unless it is a loopback address.
func TestDebugAddrMustBeLoopback(t *testing.T) {
	for _, value := range []string{"0.0.0.0:6060", ":6060", "[::]:6060", "192.168.1.20:6060", "10.0.0.1:0", "example.com:6060",
		"127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"} {
		_, err := LoadConfig(lookupFrom(map[string]string{"DEBUG_ADDR": value}), nil)
		if err == nil || !strings.Contains(err.Error(), "DEBUG_ADDR") {
			t.Errorf("DEBUG_ADDR=%s: error %v, want a refusal naming the variable", value, err)
		}
	}
	for _, value := range []string{"127.0.0.1:6060", "127.0.0.2:0", "[::1]:6060", "localhost:0", ""} {
		if _, err := LoadConfig(lookupFrom(map[string]string{"DEBUG_ADDR": value}), nil); err != nil {
			t.Errorf("DEBUG_ADDR=%q: %v", value, err)
		}
	}
}
