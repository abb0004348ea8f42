package webhook_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/webhook"
)

func TestCheckAddr(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "0.0.0.0": true, "::": true, "100.64.0.1": true, "100.127.255.254": true,
		"fd00::1": true, "fc00::1": true, "224.0.0.1": true, "ff02::1": true, "255.255.255.255": true, "198.18.0.1": true,
		"::ffff:127.0.0.1": true, "::ffff:10.0.0.1": true, "64:ff9b::7f00:1": true, "64:ff9b:1::1": true, "fec0::1": true,
		"8.8.8.8": false, "93.184.216.34": false, "100.63.255.255": false, "100.128.0.0": false, "172.32.0.1": false,
		"2606:4700::1111": false, "64:ff9b::808:808": false, "::ffff:8.8.8.8": false,
	} {
		err := webhook.CheckAddr(netip.MustParseAddr(addr))
		if (err != nil) != refused {
			t.Errorf("%s: %v, want refused=%v", addr, err, refused)
		}
	}
}

func TestLiteralPrivateTargetRefusedAtParse(t *testing.T) {
	cfg := webhook.TargetConfig{URLs: []string{"http://127.0.0.1:9000/hooks"}, Secrets: secret('a'), Timeout: time.Second, MaxConns: 1}
	_, err := webhook.ParseTargets(cfg)
	if err == nil || !strings.Contains(err.Error(), "WEBHOOK_URLS") || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "WEBHOOK_ALLOW_PRIVATE") {
		t.Fatalf("a target on 127.0.0.1: %v, want refused naming WEBHOOK_URLS and WEBHOOK_ALLOW_PRIVATE", err)
	}
	cfg.AllowPrivate = true
	if _, err := webhook.ParseTargets(cfg); err != nil {
		t.Fatalf("allowed: %v", err)
	}
}

// attemptOnce delivers one event to u and returns the first attempt.
func attemptOnce(t *testing.T, u string, allow bool, resolver *net.Resolver) ivslive.WebhookAttempt {
	t.Helper()
	store := openSQLite(t)
	svc := start(t, store, webhook.Config{Targets: []webhook.Target{target(t, "rx", u, 5*time.Second, secret('a'))},
		AllowPrivate: allow, Resolver: resolver, Backoff: webhook.Backoff{Min: time.Hour, Max: time.Hour}}, nil, nil)
	svc.Publish(joined("arn:aws:ivs:us-east-1:123456789012:stage/guard", 1, time.Now()))
	var a ivslive.WebhookAttempt
	testenv.Eventually(t, 10*time.Second, "an attempt", func() bool {
		list, _ := store.Attempts(context.Background(), ivslive.WebhookAttemptFilter{Limit: 1})
		if len(list) > 0 {
			a = list[0]
		}
		return len(list) > 0
	})
	return a
}

// Names that resolve to a private address are refused when the connection
// is made, after resolution: localhost, and a name a DNS server of the
// test's own resolves to 127.0.0.1, where a receiver listens. Allowed,
// the same names reach the receiver.
func TestNameResolvingToPrivateRefusedAtConnect(t *testing.T) {
	rc := newReceiver(t, nil)
	_, port, _ := net.SplitHostPort(rc.Listener.Addr().String())
	resolver := fakeDNS(t, "hooks.example.test", [4]byte{127, 0, 0, 1})
	for i, u := range []string{"http://localhost:" + port + "/", "http://hooks.example.test:" + port + "/"} {
		a := attemptOnce(t, u, false, resolver)
		if a.Outcome != ivslive.WebhookRetrying || !strings.Contains(a.Error, "127.0.0.1 is loopback") {
			t.Errorf("%s: %+v, want refused as loopback", u, a)
		}
		if n := len(rc.receipts()); n != i {
			t.Fatalf("%s: the receiver got a request though the address is refused", u)
		}
		if a := attemptOnce(t, u, true, resolver); a.Outcome != ivslive.WebhookDelivered {
			t.Errorf("%s with WEBHOOK_ALLOW_PRIVATE: %+v", u, a)
		}
	}
	if n := len(rc.receipts()); n != 2 {
		t.Fatalf("the receiver got %d requests, want the 2 allowed ones", n)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	elsewhere := newReceiver(t, nil)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	})
	a := attemptOnce(t, rc.URL, true, nil)
	if a.Outcome != ivslive.WebhookRetrying || a.Status != 307 || !strings.Contains(a.Error, "redirects are not followed") {
		t.Errorf("attempt: %+v", a)
	}
	if n := len(elsewhere.receipts()); n != 0 {
		t.Errorf("the redirect was followed (%d requests)", n)
	}
}

// A 410 Gone disables the target and drops what was queued for it; an
// admin enables it again.
func TestGoneDisablesTarget(t *testing.T) {
	twins(t, func(t *testing.T, open func(t *testing.T) webhook.Store) {
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) })
		obs := newCounts()
		store := open(t)
		svc := start(t, store, webhook.Config{Targets: []webhook.Target{target(t, "rx", rc.URL, 5*time.Second, secret('a'))}, AllowPrivate: true}, nil, obs)
		for i := range 5 {
			svc.Publish(joined("arn:aws:ivs:us-east-1:123456789012:stage/gone", i, time.Now()))
		}
		testenv.Eventually(t, 10*time.Second, "disabled", func() bool {
			st, _ := store.Target(context.Background(), "rx")
			return st.Disabled
		})
		ctx := context.Background()
		if err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		svc.Publish(joined("arn:aws:ivs:us-east-1:123456789012:stage/gone", 9, time.Now()))
		if err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		st, _ := store.Target(ctx, "rx")
		if st.Queued != 0 || !strings.Contains(st.DisabledReason, "410") {
			t.Fatalf("after 410: %+v", st)
		}
		if n := len(rc.receipts()); n != 1 {
			t.Fatalf("the receiver got %d requests, want 1", n)
		}
		obs.mu.Lock()
		dropped := obs.dropped["gone"]
		obs.mu.Unlock()
		if dropped != 5 {
			t.Errorf("dropped %d as gone, want 5: the one answered 410 and the 4 queued behind it", dropped)
		}
		if err := svc.Enable(ctx, "rx"); err != nil {
			t.Fatal(err)
		}
		svc.Publish(joined("arn:aws:ivs:us-east-1:123456789012:stage/gone", 10, time.Now()))
		testenv.Eventually(t, 10*time.Second, "delivery after enable", func() bool { return len(rc.receipts()) == 2 })
	})
}

// fakeDNS returns a resolver whose DNS server (the test's own, on
// loopback) answers name with addr and every other question with nothing.
func fakeDNS(t *testing.T, name string, addr [4]byte) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			// The question: labels up to a zero byte, then type and class.
			end := 12
			var labels []string
			for end < n && buf[end] != 0 {
				l := int(buf[end])
				labels = append(labels, string(buf[end+1:end+1+l]))
				end += 1 + l
			}
			qtype := binary.BigEndian.Uint16(buf[end+1:])
			question := buf[12 : end+5]
			answer := strings.EqualFold(strings.Join(labels, "."), name) && qtype == 1
			resp := append([]byte{buf[0], buf[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0}, question...)
			if answer {
				resp[7] = 1
				resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
				resp = append(resp, addr[:]...)
			}
			pc.WriteTo(resp, from)
		}
	}()
	server := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", server)
	}}
}
