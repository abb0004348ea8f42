package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ivslive/ivslive/internal/testenv"
)

// hook is one webhook request a receiver got.
type hook struct {
	id, typ, stage, user string
}

// hookReceiver records every webhook; hold makes the next request wait
// until released.
type hookReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []hook
	hold    bool
	held    chan hook
	release chan struct{}
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rx := &hookReceiver{held: make(chan hook, 1), release: make(chan struct{})}
	rx.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m struct {
			ID, Type string
			Data     struct{ StageArn, UserId string }
		}
		json.Unmarshal(body, &m)
		h := hook{id: m.ID, typ: m.Type, stage: m.Data.StageArn, user: m.Data.UserId}
		rx.mu.Lock()
		rx.got = append(rx.got, h)
		hold := rx.hold
		rx.hold = false
		rx.mu.Unlock()
		if hold {
			rx.held <- h
			<-rx.release
		}
		// A receiver that takes a moment, so a backlog builds: slower than
		// the joins of a starved -race run (about 30 ms each), or the queue
		// is drained before the kill and the kill is not mid-stream.
		time.Sleep(150 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		select {
		case <-rx.release:
		default:
			close(rx.release)
		}
		rx.Close()
	})
	return rx
}

func (rx *hookReceiver) hooks() []hook {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	return append([]hook(nil), rx.got...)
}

// kill -9 of the instance delivering webhooks, mid-stream, with two
// instances on one Redis: every event arrives, none out of order within its
// stage. Instance b is paused (SIGSTOP) while a delivers alone, a is killed
// while a delivery is in flight, then b resumes and must take over a's
// queues, including the job a held.
func TestWebhooksSurviveKillOfTheDeliveringInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	rx := newHookReceiver(t)
	env := clusterEnv(t)
	env["WEBHOOK_URLS"] = rx.URL + "/hooks"
	env["WEBHOOK_SECRET"] = "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 32)))
	env["WEBHOOK_ALLOW_PRIVATE"] = "true"
	env["WEBHOOK_TIMEOUT"] = "1" // a claim's lease: 3 s
	start := func() *child {
		dir := t.TempDir()
		e := map[string]string{"IVSLIVE_DATA_DIR": dir + "/data"}
		for k, v := range env {
			e[k] = v
		}
		return startChild(t, dir, e)
	}
	a, b := start(), start()
	hc := &http.Client{Timeout: 10 * time.Second}
	api := []client{{url: a.url, key: testKey, http: hc}, {url: b.url, key: testKey, http: hc}}
	must := func(c client, path string, body any) json.RawMessage {
		t.Helper()
		status, data, err := c.do("POST", path, body)
		if err != nil || status/100 != 2 {
			t.Fatalf("POST %s: %d %v %s", path, status, err, data)
		}
		return data
	}
	must(api[0], "/api/token/publisher", map[string]string{"userId": "host"})
	var master struct{ Stage struct{ ARN string } }
	status, data, _ := api[1].do("GET", "/api/stage/master/info", nil)
	json.Unmarshal(data, &master)
	if status != 200 || master.Stage.ARN == "" {
		t.Fatalf("master: %d %s", status, data)
	}
	stages := []string{master.Stage.ARN}
	for i := range 2 {
		var created struct{ Stage struct{ ARN string } }
		json.Unmarshal(must(api[i], "/api/stage", map[string]string{"name": fmt.Sprint("room-", i)}), &created)
		stages = append(stages, created.Stage.ARN)
	}
	join := func(c client, n int) {
		must(c, "/api/token/viewer", map[string]string{"userId": fmt.Sprint("u", n), "stageArn": stages[n%len(stages)]})
	}
	const before, after = 90, 30
	for n := range before {
		join(api[n%2], n)
	}
	testenv.Eventually(t, 20*time.Second, "deliveries from both instances", func() bool { return len(rx.hooks()) >= 15 })

	b.cmd.Process.Signal(syscall.SIGSTOP) // a delivers alone from here
	t.Cleanup(func() { b.cmd.Process.Signal(syscall.SIGCONT) })
	rx.mu.Lock()
	rx.hold = true
	rx.mu.Unlock()
	var held hook
	select {
	case held = <-rx.held:
	case <-time.After(20 * time.Second):
		t.Fatal("instance a delivered nothing while b was paused")
	}
	a.kill()
	close(rx.release)
	queued := len(rx.hooks())
	b.cmd.Process.Signal(syscall.SIGCONT)
	for n := before; n < before+after; n++ {
		join(api[1], n)
	}

	want := map[hook]bool{{typ: "broadcast.started", stage: stages[0], user: "host"}: true}
	for _, s := range stages[1:] {
		want[hook{typ: "stage.created", stage: s}] = true
	}
	for n := range before + after {
		want[hook{typ: "viewer.joined", stage: stages[n%len(stages)], user: fmt.Sprint("u", n)}] = true
	}
	key := func(h hook) hook { return hook{typ: h.typ, stage: h.stage, user: h.user} }
	testenv.Eventually(t, 60*time.Second, "every event delivered, and the held one again", func() bool {
		seen, again := map[hook]bool{}, 0
		for _, h := range rx.hooks() {
			seen[key(h)] = true
			if h.id == held.id {
				again++
			}
		}
		if again < 2 { // b redelivers it once a's claim lapses (3 s)
			return false
		}
		for w := range want {
			if !seen[w] {
				return false
			}
		}
		return true
	})

	// Within a stage, events arrive in the order they happened: a
	// redelivery repeats the last event, never an older one.
	rank := func(h hook) int {
		n := -1
		fmt.Sscanf(h.user, "u%d", &n)
		return n
	}
	last := map[string]int{}
	redelivered := 0
	for _, h := range rx.hooks() {
		if !want[key(h)] {
			t.Errorf("unexpected webhook %+v", h)
			continue
		}
		if prev, ok := last[h.stage]; ok && rank(h) < prev {
			t.Errorf("%s: %s %s after u%d: out of order", h.stage, h.typ, h.user, prev)
		} else {
			last[h.stage] = rank(h)
		}
		if h.id == held.id {
			redelivered++
		}
	}
	got := rx.hooks()
	t.Logf("a killed holding %s (%s); %d requests before the kill, %d in all for %d events", held.user, held.typ, queued, len(got), len(want))
	if queued > len(want)-30 {
		t.Errorf("only %d of %d events were left when a was killed: not mid-stream", len(want)-queued, len(want))
	}
	if redelivered < 2 {
		t.Errorf("the event a held (%s) arrived %d times, want it again from b", held.id, redelivered)
	}
}
