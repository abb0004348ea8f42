package loadtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive/loadtest"
)

// nodeServer mimics the Node server the routes come from: API key only, and
// no session token in the join answer.
func nodeServer(t *testing.T, key string) (*httptest.Server, func() int) {
	var mu sync.Mutex
	present := map[string]bool{}
	const arn = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGhIjKl"
	answer := func(w http.ResponseWriter, status int, data any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"success": status == 200, "data": data, "timestamp": time.Now()})
	}
	viewer := func(r *http.Request) (string, bool) {
		var body struct{ UserID, StageArn string }
		err := json.NewDecoder(r.Body).Decode(&body)
		return body.UserID, err == nil && body.UserID != "" && body.StageArn == arn
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/token/viewer", func(w http.ResponseWriter, r *http.Request) {
		id, _ := viewer(r)
		mu.Lock()
		present[id] = true
		n := len(present)
		mu.Unlock()
		answer(w, 200, map[string]any{"token": "t", "participantId": "p", "userId": id, "stageArn": arn, "currentViewers": n, "isNewViewer": true})
	})
	mux.HandleFunc("POST /api/viewer/heartbeat", func(w http.ResponseWriter, r *http.Request) {
		id, ok := viewer(r)
		mu.Lock()
		ok = ok && present[id]
		mu.Unlock()
		if !ok {
			answer(w, 404, nil)
			return
		}
		answer(w, 200, map[string]any{"heartbeatUpdated": true})
	})
	mux.HandleFunc("POST /api/viewer/leave", func(w http.ResponseWriter, r *http.Request) {
		id, ok := viewer(r)
		mu.Lock()
		delete(present, id)
		mu.Unlock()
		answer(w, map[bool]int{true: 200, false: 400}[ok], map[string]any{"viewerLeft": true})
	})
	mux.HandleFunc("GET /api/stats/viewers", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		answer(w, 200, map[string]any{"totalViewers": len(present)})
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != key || r.Header.Get("Authorization") != "" {
			answer(w, 401, nil)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return len(present) }
}

// TestRunNodeServer checks that a run asking for session auth falls back to
// the key, per viewer, against a server that sends no session token.
func TestRunNodeServer(t *testing.T) {
	srv, present := nodeServer(t, "node-key")
	o := loadtest.Options{URL: srv.URL + "/", Key: "node-key", Viewers: 10, Ramp: 100 * time.Millisecond, Duration: 600 * time.Millisecond,
		Interval: 100 * time.Millisecond, Concurrency: 4, LeaveRatio: 0.5, Auth: loadtest.AuthSession, SampleEvery: 100 * time.Millisecond}
	r, err := loadtest.Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Errors != 0 || r.Totals.SessionFallbacks != 10 || r.Routes[loadtest.RouteHeartbeat].Count < 20 {
		t.Errorf("totals %+v, routes %+v", r.Totals, r.Routes)
	}
	if r.Totals.Left != 5 || present() != 5 {
		t.Errorf("%d left, server has %d", r.Totals.Left, present())
	}
	if a := r.Accuracy; a.Samples < 4 || a.WithinBounds != a.Samples {
		t.Errorf("accuracy %+v", a)
	}
}
