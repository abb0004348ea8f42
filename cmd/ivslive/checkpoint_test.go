package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// A graceful shutdown with a large live set keeps every session: checkpoints
// run every second while the viewers are seated (each writing only the
// joins since the last), the final one at shutdown writes what is left, and
// the next start restores every viewer.
func TestGracefulRestartKeepsEveryViewer(t *testing.T) {
	if testing.Short() {
		t.Skip("seats thousands of viewers")
	}
	const n = 3000
	dir := t.TempDir()
	env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "IVSLIVE_DATA_DIR": dir, "SNAPSHOT_INTERVAL": "1",
		"RATE_LIMIT_MAX_REQUESTS": "1000000"}
	s := start(t, env)
	c := client{url: s.url, key: testKey, http: &http.Client{}}
	if code, body, err := c.do("POST", "/api/token/publisher", map[string]string{"userId": "host"}); err != nil || code != 200 {
		t.Fatalf("publisher token: %d %s %v", code, body, err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if code, body, err := c.do("POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)}); err != nil || code != 200 {
					t.Errorf("viewer %d: %d %s %v", i, code, body, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		s.stop()
		return
	}
	if got := totalViewers(t, c); got != n {
		t.Fatalf("%d viewers seated, want %d", got, n)
	}
	s.stop()

	s = start(t, env)
	defer s.stop()
	c.url = s.url
	if got := totalViewers(t, c); got != n {
		t.Fatalf("%d viewers after a graceful restart, want all %d", got, n)
	}
}

func totalViewers(t *testing.T, c client) int {
	t.Helper()
	code, body, err := c.do("GET", "/api/stats/viewers", nil)
	if err != nil || code != 200 {
		t.Fatalf("stats: %d %s %v", code, body, err)
	}
	var v struct {
		TotalViewers int `json:"totalViewers"`
	}
	json.Unmarshal(body, &v)
	return v.TotalViewers
}
