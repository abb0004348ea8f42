package webhook_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/webhook"
)

// deliverOne sends one event through a service whose clock is skew away
// from the real one, and returns what the receiver got.
func deliverOne(t *testing.T, skew time.Duration, secrets ...string) receipt {
	t.Helper()
	rc := newReceiver(t, nil)
	now := func() time.Time { return time.Now().Add(skew) }
	svc := start(t, openSQLite(t), webhook.Config{Targets: []webhook.Target{target(t, "rx", rc.URL, 5*time.Second, secrets...)}, AllowPrivate: true}, now, nil)
	svc.Publish(joined("arn:aws:ivs:us-east-1:123456789012:stage/sig", 1, now()))
	testenv.Eventually(t, 10*time.Second, "delivery", func() bool { return rc.distinct() == 1 })
	return rc.receipts()[0]
}

// Signatures verify with the Standard Webhooks reference library, with
// either of two secrets during a rotation; a tampered body, another secret
// or a stale timestamp fail.
func TestSignaturesVerifyWithTheReferenceLibrary(t *testing.T) {
	got := deliverOne(t, 0, secret('a'), secret('b'))
	if n := len(strings.Fields(got.Header.Get(webhook.HeaderSignature))); n != 2 {
		t.Fatalf("webhook-signature %q: want one signature per secret", got.Header.Get(webhook.HeaderSignature))
	}
	for _, s := range []string{secret('a'), secret('b')} {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(got.Body, got.Header); err != nil {
			t.Errorf("a receiver holding one of the secrets: %v", err)
		}
		tampered := append([]byte(nil), got.Body...)
		tampered[len(tampered)-2] ^= 1
		if err := wh.Verify(tampered, got.Header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("a tampered body: %v, want no matching signature", err)
		}
		other := got.Header.Clone()
		other.Set(webhook.HeaderID, "msg_other")
		if err := wh.Verify(got.Body, other); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("another webhook-id: %v, want no matching signature", err)
		}
	}
	wrong, _ := standardwebhooks.NewWebhook(secret('c'))
	if err := wrong.Verify(got.Body, got.Header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("a secret the target does not have: %v", err)
	}

	stale := deliverOne(t, -10*time.Minute, secret('a'))
	wh, _ := standardwebhooks.NewWebhook(secret('a'))
	if err := wh.Verify(stale.Body, stale.Header); !errors.Is(err, standardwebhooks.ErrMessageTooOld) {
		t.Errorf("a timestamp 10 minutes old: %v, want too old", err)
	}
	if err := wh.VerifyIgnoringTimestamp(stale.Body, stale.Header); err != nil {
		t.Errorf("the stale message's signature itself: %v", err)
	}
}

// The Node verifier of docs/WEBHOOKS.md, run by node with the
// standardwebhooks npm package, accepts our deliveries and refuses a wrong
// secret and a stale timestamp.
func TestDocumentedNodeVerifier(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("!!! node not installed: the Node verifier of docs/WEBHOOKS.md is not tested")
	}
	dir := npmPackage(t)
	doc, err := os.ReadFile("../docs/WEBHOOKS.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```js\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/WEBHOOKS.md has no ```js block")
	}
	script := filepath.Join(dir, "verifier.mjs")
	if err := os.WriteFile(script, m[1], 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret('a'), "PORT="+strconv.Itoa(port))
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	testenv.Eventually(t, 10*time.Second, "node listening", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	for _, c := range []struct {
		name   string
		secret string
		skew   time.Duration
		status int
	}{
		{"the right secret", secret('a'), 0, 204},
		{"another secret", secret('b'), 0, 400},
		{"a stale timestamp", secret('a'), -10 * time.Minute, 400},
	} {
		store := openSQLite(t)
		now := func() time.Time { return time.Now().Add(c.skew) }
		svc := start(t, store, webhook.Config{Targets: []webhook.Target{target(t, "node", url, 5*time.Second, c.secret)}, AllowPrivate: true}, now, nil)
		svc.Publish(joined("arn:aws:ivs:us-east-1:123456789012:stage/node", 7, now()))
		var status int
		testenv.Eventually(t, 10*time.Second, c.name+": an attempt", func() bool {
			list, _ := store.Attempts(context.Background(), ivslive.WebhookAttemptFilter{Limit: 1})
			if len(list) > 0 {
				status = list[0].Status
			}
			return len(list) > 0
		})
		if status != c.status {
			t.Errorf("%s: the Node verifier answered %d, want %d", c.name, status, c.status)
		}
	}
	select {
	case l := <-lines:
		if !strings.Contains(l, "viewer.joined") {
			t.Errorf("the verifier printed %q, want the event type", l)
		}
	case <-time.After(5 * time.Second):
		t.Error("the verifier printed nothing for the verified event")
	}
}

// npmPackage installs the standardwebhooks npm package in a cache
// directory (once per machine) and returns it; it skips when npm cannot.
func npmPackage(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "ivslive-test", "standardwebhooks-1.1.1")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err == nil {
		return dir
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "standardwebhooks@1.1.1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("!!! npm could not install standardwebhooks (%v): the Node verifier is not tested\n%s", err, out)
	}
	return dir
}
