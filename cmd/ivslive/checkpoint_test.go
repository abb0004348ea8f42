package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
)

// A graceful shutdown with a large live set keeps every session: checkpoints
// run every second while viewers join and leave (each writing only the
// changes since the last), the final one at shutdown writes what is left,
// and the next start restores exactly the live set: every viewer still
// there with the session it had, none of those who left.
func TestGracefulRestartKeepsEveryViewer(t *testing.T) {
	if testing.Short() {
		t.Skip("seats thousands of viewers")
	}
	const n = 3000
	dir := t.TempDir()
	// The viewers send no heartbeats: a timeout longer than the test keeps
	// the sweeper out of it on a slow machine.
	env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "IVSLIVE_DATA_DIR": dir, "SNAPSHOT_INTERVAL": "1",
		"RATE_LIMIT_MAX_REQUESTS": "1000000", "VIEWER_TIMEOUT": "3600"}
	s := start(t, env)
	c := client{url: s.url, key: testKey, http: &http.Client{}}
	if code, body, err := c.do("POST", "/api/token/publisher", map[string]string{"userId": "host"}); err != nil || code != 200 {
		t.Fatalf("publisher token: %d %s %v", code, body, err)
	}
	var mu sync.Mutex
	sessions := map[string]string{} // live user → session id
	stage := ""
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				user := fmt.Sprint("v", i)
				var a struct{ StageArn, SessionId string }
				if code, body, err := c.do("POST", "/api/token/viewer", map[string]string{"userId": user}); err != nil || code != 200 || json.Unmarshal(body, &a) != nil {
					t.Errorf("viewer %d: %d %s %v", i, code, body, err)
					return
				}
				mu.Lock()
				sessions[user], stage = a.SessionId, a.StageArn
				mu.Unlock()
				// Every fifth viewer leaves again, a little later: leaves
				// race with the checkpoints as joins do.
				if i >= 40 && i%5 == 0 {
					gone := fmt.Sprint("v", i-40)
					if code, body, err := c.do("POST", "/api/viewer/leave", map[string]string{"userId": gone, "stageArn": a.StageArn}); err != nil || code != 200 {
						t.Errorf("leave %s: %d %s %v", gone, code, body, err)
						return
					}
					mu.Lock()
					delete(sessions, gone)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		s.stop()
		return
	}
	want := slices.Sorted(maps.Keys(sessions))
	if got := viewerList(t, c, stage); !slices.Equal(got, want) {
		t.Fatalf("%d viewers live, want the %d who joined and did not leave", len(got), len(want))
	}
	s.stop()

	s = start(t, env)
	defer s.stop()
	c.url = s.url
	if got := viewerList(t, c, stage); !slices.Equal(got, want) {
		lost, back := 0, 0
		for _, u := range want {
			if !slices.Contains(got, u) {
				lost++
			}
		}
		for _, u := range got {
			if _, ok := sessions[u]; !ok {
				back++
			}
		}
		t.Fatalf("after a graceful restart %d viewers live, want %d: %d lost, %d resurrected", len(got), len(want), lost, back)
	}
	// Each kept its session: joining again is not a new viewer.
	for _, u := range want[:50] {
		var a struct {
			SessionId   string
			IsNewViewer bool
		}
		if code, body, err := c.do("POST", "/api/token/viewer", map[string]string{"userId": u}); err != nil || code != 200 || json.Unmarshal(body, &a) != nil {
			t.Fatalf("rejoin %s: %d %s %v", u, code, body, err)
		}
		if a.IsNewViewer || a.SessionId != sessions[u] {
			t.Errorf("%s after the restart: session %s (new %v), want %s", u, a.SessionId, a.IsNewViewer, sessions[u])
		}
	}
}

// viewerList returns the users live on a stage, sorted.
func viewerList(t *testing.T, c client, stage string) []string {
	t.Helper()
	code, body, err := c.do("GET", "/api/viewer/list/"+url.PathEscape(stage), nil)
	if err != nil || code != 200 {
		t.Fatalf("viewer list: %d %s %v", code, body, err)
	}
	var v struct{ Viewers []string }
	json.Unmarshal(body, &v)
	slices.Sort(v.Viewers)
	return v.Viewers
}
