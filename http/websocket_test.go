package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ivslive/ivslive/internal/apitest"
)

type wsMessage struct {
	Type    string          `json:"type"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	Error   struct {
		Code string `json:"code"`
	} `json:"error"`
}

type statsData struct {
	ViewerCount     int  `json:"viewerCount"`
	ActiveStages    int  `json:"activeStages"`
	IsPublisherLive bool `json:"isPublisherLive"`
	Stages          []struct {
		StageARN    string `json:"stageArn"`
		ViewerCount int    `json:"viewerCount"`
	} `json:"stages"`
}

func dial(t *testing.T, env *apitest.Env, key string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{}
	if key != "" {
		opts.Subprotocols = []string{"ivslive", "key." + key}
	}
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.URL, "http")+"/ws", opts)
	if c != nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

func send(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// next reads messages until one satisfies ok, or fails after wait.
func next(t *testing.T, c *websocket.Conn, wait time.Duration, ok func(m wsMessage) bool) wsMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("no matching message within %v: %v", wait, err)
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("not JSON: %s", b)
		}
		if ok(m) {
			return m
		}
	}
}

func TestWebSocketAuth(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	for name, key := range map[string]string{"no key": "", "wrong key": "not-a-key"} {
		_, resp, err := dial(t, env, key)
		if err == nil || resp == nil || resp.StatusCode != 401 {
			t.Fatalf("%s: err %v, response %v; want 401 before the upgrade", name, err, resp)
		}
	}
	// A viewer-scope key cannot read live stats.
	if _, resp, err := dial(t, env, apitest.ViewerKey); err == nil || resp.StatusCode != 403 {
		t.Fatalf("viewer key: %v %v, want 403", err, resp)
	}
	reader, resp, err := dial(t, env, apitest.ReadKey)
	if err != nil {
		t.Fatal(err)
	}
	if reader.Subprotocol() != "ivslive" {
		t.Fatalf("subprotocol %q, want ivslive (never the key)", reader.Subprotocol())
	}
	_ = resp
	next(t, reader, 2*time.Second, func(m wsMessage) bool { return m.Type == "stats_update" })
	send(t, reader, `{"type":"subscribe","channel":"events"}`)
	m := next(t, reader, 2*time.Second, func(m wsMessage) bool { return m.Type == "error" })
	if m.Error.Code != "FORBIDDEN" {
		t.Fatalf("read key on events: %+v", m)
	}
	send(t, reader, `{"type":"subscribe","channel":"stage:`+env.Live.MasterARN()+`"}`)
	next(t, reader, 2*time.Second, func(m wsMessage) bool { return m.Type == "subscribed" && strings.HasPrefix(m.Channel, "stage:") })
	for _, bad := range []string{`{"type":"subscribe","channel":"nope"}`, `not json`, `{"type":"dance"}`} {
		send(t, reader, bad)
		next(t, reader, 2*time.Second, func(m wsMessage) bool { return m.Type == "error" && m.Error.Code == "VALIDATION_ERROR" })
	}
	send(t, reader, `{"type":"ping"}`)
	next(t, reader, 2*time.Second, func(m wsMessage) bool { return m.Type == "pong" })
}

func TestWebSocketPushesTrueNumbers(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	admin, _, err := dial(t, env, apitest.Key)
	if err != nil {
		t.Fatal(err)
	}
	// The Node server's client message is accepted and confirmed.
	send(t, admin, `{"type":"subscribe","channel":"stats"}`)
	next(t, admin, 2*time.Second, func(m wsMessage) bool { return m.Type == "subscribed" && m.Channel == "stats" })
	send(t, admin, `{"type":"subscribe","channel":"events"}`)
	next(t, admin, 2*time.Second, func(m wsMessage) bool { return m.Type == "subscribed" && m.Channel == "events" })
	send(t, admin, `{"type":"subscribe","channel":"stage:`+env.Live.MasterARN()+`"}`)
	next(t, admin, 2*time.Second, func(m wsMessage) bool { return m.Type == "subscribed" && m.Channel != "events" && m.Channel != "stats" })

	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	start := time.Now()
	for i := 0; i < 3; i++ {
		env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": fmt.Sprint("v", i)})
	}
	ev := next(t, admin, 2*time.Second, func(m wsMessage) bool { return m.Type == "event" && strings.Contains(string(m.Data), "viewer.joined") })
	if !strings.Contains(string(ev.Data), `"userId":"v0"`) {
		t.Fatalf("first event %s", ev.Data)
	}
	var st statsData
	next(t, admin, 2*time.Second, func(m wsMessage) bool {
		if m.Type != "stats_update" {
			return false
		}
		json.Unmarshal(m.Data, &st)
		return st.ViewerCount == 3
	})
	t.Logf("stats_update with the new count arrived %v after the first join", time.Since(start))
	if !st.IsPublisherLive || st.ActiveStages != 1 || len(st.Stages) != 1 || st.Stages[0].ViewerCount != 3 {
		t.Fatalf("stats = %+v", st)
	}
	stage := next(t, admin, 2*time.Second, func(m wsMessage) bool {
		return m.Type == "stage_update" && strings.Contains(string(m.Data), `"viewerCount":3`)
	})
	if stage.Channel != "stage:"+env.Live.MasterARN() {
		t.Fatalf("stage update on %q", stage.Channel)
	}
	send(t, admin, `{"type":"unsubscribe","channel":"stats"}`)
	next(t, admin, 2*time.Second, func(m wsMessage) bool { return m.Type == "unsubscribed" })
}

// A hub shutting down says goodbye with 1001.
func TestWebSocketClosesWithGoingAway(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	c, _, err := dial(t, env, apitest.Key)
	if err != nil {
		t.Fatal(err)
	}
	next(t, c, 2*time.Second, func(m wsMessage) bool { return m.Type == "stats_update" })
	go env.Hub.Close() // it waits for the client to answer the close frame
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
				t.Fatalf("closed with %v, want 1001 going away", err)
			}
			return
		}
	}
}
