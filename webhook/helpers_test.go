package webhook_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/redis"
	"github.com/ivslive/ivslive/sqlite"
	"github.com/ivslive/ivslive/webhook"
)

// twins runs f with the SQLite store and with the Redis one.
func twins(t *testing.T, f func(t *testing.T, open func(t *testing.T) webhook.Store)) {
	t.Run("sqlite", func(t *testing.T) { f(t, openSQLite) })
	t.Run("redis", func(t *testing.T) { f(t, openRedis) })
}

// openSQLite returns a fresh SQLite store in a file.
func openSQLite(t *testing.T) webhook.Store {
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/webhooks.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := sqlite.NewWebhooks(context.Background(), db, webhook.DefaultArchiveSize, webhook.DefaultLogSize)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// openRedis returns a Redis store under a prefix of the test's own.
func openRedis(t *testing.T) webhook.Store {
	client, prefix := testenv.Redis(t)
	return redis.NewWebhooks(client, prefix, webhook.DefaultArchiveSize, webhook.DefaultLogSize)
}

// secret returns a Standard Webhooks secret made of b repeated.
func secret(b byte) string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(b), 32)))
}

// target is a target at u with the given secrets, allowed on loopback.
func target(t *testing.T, name, u string, timeout time.Duration, secrets ...string) webhook.Target {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	var list []webhook.Secret
	for _, s := range secrets {
		sec, err := webhook.ParseSecret(s)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, sec)
	}
	return webhook.Target{Name: name, URL: parsed, Secrets: list, Timeout: timeout, MaxConns: 4}
}

// start runs a service until the test ends.
func start(t *testing.T, store webhook.Store, cfg webhook.Config, now func() time.Time, obs webhook.Observer) *webhook.Service {
	t.Helper()
	if cfg.Backoff.Min == 0 {
		cfg.Backoff = webhook.Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}
	}
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	s := webhook.New(store, cfg, now, nil, obs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// receipt is one request a receiver got.
type receipt struct {
	ID     string
	Header http.Header
	Body   []byte
}

// receiver is a webhook endpoint that answers request n (from 1) as
// answer says, and remembers every request.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []receipt
	seen   map[string]int
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{seen: map[string]int{}, answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read webhook body: %v", err)
		}
		rc.mu.Lock()
		id := r.Header.Get(webhook.HeaderID)
		rc.got = append(rc.got, receipt{ID: id, Header: r.Header.Clone(), Body: body})
		rc.seen[id]++
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// receipts returns a copy of what the receiver got.
func (rc *receiver) receipts() []receipt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receipt(nil), rc.got...)
}

// distinct returns how many different ids the receiver got.
func (rc *receiver) distinct() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.seen)
}

// duplicates returns how many requests repeated an id already received.
func (rc *receiver) duplicates() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got) - len(rc.seen)
}

// counts is an Observer that counts.
type counts struct {
	mu       sync.Mutex
	outcomes map[ivslive.WebhookOutcome]int
	dropped  map[string]int
	lost     int
}

func newCounts() *counts {
	return &counts{outcomes: map[ivslive.WebhookOutcome]int{}, dropped: map[string]int{}}
}

func (c *counts) Attempted(_ string, o ivslive.WebhookOutcome, _ time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outcomes[o]++
}

func (c *counts) Dropped(_, reason string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped[reason] += n
}

func (c *counts) Lost(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lost += n
}

func (c *counts) get(o ivslive.WebhookOutcome) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outcomes[o]
}

// joined is viewer n joining a stage, as the core publishes it.
func joined(stage string, n int, at time.Time) ivslive.Event {
	v := n
	return ivslive.Event{Type: ivslive.EventViewerJoined, Time: at, StageARN: stage, UserID: fmt.Sprintf("user-%d", n),
		SessionID: fmt.Sprintf("sess-%d", n), Viewers: &v}
}
