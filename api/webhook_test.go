package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/api"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/webhook"
)

// inbox is a webhook receiver that keeps every body.
type inbox struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newInbox(t *testing.T) *inbox {
	in := &inbox{}
	in.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		in.mu.Lock()
		in.bodies = append(in.bodies, b)
		in.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(in.Close)
	return in
}

func (in *inbox) all() [][]byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([][]byte(nil), in.bodies...)
}

// webhookOptions sends every event to in, as target "inbox".
func webhookOptions(t *testing.T, in *inbox) *webhook.Config {
	u, _ := url.Parse(in.URL)
	s, err := webhook.ParseSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
	if err != nil {
		t.Fatal(err)
	}
	return &webhook.Config{Targets: []webhook.Target{{Name: "inbox", URL: u, Secrets: []webhook.Secret{s}, Timeout: 5 * time.Second, MaxConns: 4}},
		AllowPrivate: true, Poll: 20 * time.Millisecond}
}

// exerciseWebhooks covers the webhook routes, after exercisePool has made
// events.
func exerciseWebhooks(t *testing.T, c *checker, in *inbox) {
	c.do(t, 200, "GET", "/api/webhooks", nil)
	testenv.Eventually(t, 10*time.Second, "a webhook", func() bool { return len(in.all()) > 0 })
	var first webhook.Message
	if bodies := in.all(); len(bodies) == 0 || json.Unmarshal(bodies[0], &first) != nil {
		t.Fatal("no webhook arrived")
	}
	c.do(t, 200, "GET", "/api/webhooks/deliveries", nil)
	c.do(t, 200, "GET", "/api/webhooks/deliveries?target=inbox&failures=true&limit=5", nil)
	c.reject(t, 400, "GET", "/api/webhooks/deliveries?limit=0", nil)
	c.reject(t, 400, "GET", "/api/webhooks/deliveries?failures=yes", nil)
	c.do(t, 404, "GET", "/api/webhooks/deliveries?target=nobody", nil)
	var replayed struct{ Queued int }
	c.do(t, 200, "POST", "/api/webhooks/replay", map[string]string{"eventId": first.ID}).decode(t, &replayed)
	if replayed.Queued != 1 {
		t.Errorf("replay of one event to one target queued %d", replayed.Queued)
	}
	now := time.Now().UTC()
	c.do(t, 200, "POST", "/api/webhooks/replay", map[string]string{"from": now.Add(-time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339Nano), "target": "inbox"})
	c.do(t, 400, "POST", "/api/webhooks/replay", map[string]string{})
	c.do(t, 400, "POST", "/api/webhooks/replay", map[string]string{"from": now.Format(time.RFC3339), "to": now.Add(-time.Hour).Format(time.RFC3339)})
	c.reject(t, 400, "POST", "/api/webhooks/replay", map[string]string{"from": "yesterday", "to": "today"})
	c.do(t, 404, "POST", "/api/webhooks/replay", map[string]string{"eventId": "msg_00000000000000000000000000"})
	c.do(t, 404, "POST", "/api/webhooks/replay", map[string]string{"eventId": first.ID, "target": "nobody"})
	c.do(t, 200, "POST", "/api/webhooks/targets/inbox/enable", nil)
	c.do(t, 404, "POST", "/api/webhooks/targets/nobody/enable", nil)
	c.reject(t, 403, "GET", "/api/webhooks/deliveries", nil, "X-Api-Key", apitest.ReadKey)
}

// exerciseNoWebhooks covers the routes on a server without targets.
func exerciseNoWebhooks(t *testing.T, c *checker) {
	var list struct{ Enabled bool }
	c.do(t, 200, "GET", "/api/webhooks", nil).decode(t, &list)
	if list.Enabled {
		t.Error("a server without targets says webhooks are enabled")
	}
	c.do(t, 404, "GET", "/api/webhooks/deliveries", nil)
	c.do(t, 404, "POST", "/api/webhooks/replay", map[string]string{"eventId": "msg_00000000000000000000000000"})
}

// Every webhook a real server sends matches its type's schema in the
// document's webhooks section; the types the scenario cannot make are
// encoded from the events the core would publish. Every type has a schema.
func TestWebhooksMatchTheDocument(t *testing.T) {
	doc, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range webhook.Types() {
		if doc.Webhooks[typ] == nil || doc.Webhooks[typ].Post == nil {
			t.Errorf("the document's webhooks section has no %s", typ)
		}
	}
	if len(doc.Webhooks) != len(webhook.Types()) {
		t.Errorf("the document has %d webhooks, the server sends %d types", len(doc.Webhooks), len(webhook.Types()))
	}

	in := newInbox(t)
	env := apitest.New(t, apitest.Options{Webhooks: webhookOptions(t, in)})
	c := newChecker(t, env, doc)
	exercisePool(t, c) // publisher, stages, viewers, replication, teardown
	if err := env.Webhooks.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	arn := env.Live.MasterARN()
	seen := map[string]bool{}
	testenv.Eventually(t, 10*time.Second, "a "+webhook.BroadcastEnded+" webhook", func() bool {
		for _, b := range in.all() {
			var m webhook.Message
			json.Unmarshal(b, &m)
			seen[m.Type] = true
		}
		return seen[webhook.BroadcastEnded]
	})
	bodies := in.all()
	for _, e := range []ivslive.Event{
		{Type: ivslive.EventStageDraining, StageARN: arn},
		{Type: ivslive.EventHistoryDeadLettered, SessionID: "vs-1", UserID: "u\x00", StageARN: "not an arn", Reason: "invalid byte sequence for encoding UTF8"},
		{Type: ivslive.EventViewerLeft, StageARN: arn, UserID: "u", SessionID: "vs-2", Reason: "timeout"}, // count unknown
	} {
		e.Time = time.Now()
		ev, ok, err := webhook.Encode(e, webhook.NewID(e.Time))
		if err != nil || !ok {
			t.Fatalf("%s: %v", e.Type, err)
		}
		bodies = append(bodies, ev.Payload)
	}
	types := map[string]int{}
	for _, b := range bodies {
		var m webhook.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("body %s: %v", b, err)
		}
		types[m.Type]++
		if err := validateWebhook(doc, m.Type, b); err != nil {
			t.Errorf("%s does not match the document: %v\n%s", m.Type, err, b)
		}
	}
	for _, typ := range webhook.Types() {
		if types[typ] == 0 {
			t.Errorf("no %s checked (types seen: %v)", typ, types)
		}
	}

	// The check has teeth: a renamed field fails.
	drifted := strings.Replace(string(bodies[0]), `"stageArn"`, `"stage"`, 1)
	var m webhook.Message
	json.Unmarshal(bodies[0], &m)
	if err := validateWebhook(doc, m.Type, []byte(drifted)); err == nil {
		t.Errorf("a %s with stageArn renamed passed: %s", m.Type, drifted)
	}
}

// validateWebhook checks a body against its type's request schema.
func validateWebhook(doc *openapi3.T, typ string, body []byte) error {
	item := doc.Webhooks[typ]
	if item == nil || item.Post == nil {
		return &openapi3.SchemaError{Reason: "no such webhook " + typ}
	}
	schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return schema.VisitJSON(v, openapi3.MultiErrors())
}
