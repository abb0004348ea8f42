package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whipfake"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/whip"
)

// publishRun runs "ivslive publish args…" in the background; stop cancels
// it as Ctrl-C does and returns its error.
func publishRun(t *testing.T, env map[string]string, args ...string) (stderr *testenv.Buffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &testenv.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"publish"}, args...), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &testenv.Buffer{}, stderr)
	}()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				err = errors.New("publish did not stop within 20 s of its interrupt")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stderr, stop
}

// With a token alone, publish sends to the token's whip_url; --whip-url
// overrides it. Media reaches the server, progress goes to stderr, and an
// interrupt ends the session with a DELETE.
func TestPublishCommandWithToken(t *testing.T) {
	a, srv := whipfake.Start(t)
	whipURL := srv.URL + "/whip/" + whipfake.StageID
	for name, extra := range map[string][]string{
		"whip_url claim": nil,
		"--whip-url":     {"--whip-url", srv.URL + "/redirect/whip/" + whipfake.StageID},
	} {
		t.Run(name, func(t *testing.T) {
			tok, pid := whipfake.Token(t, whipURL, ivslive.Publish)
			stderr, stop := publishRun(t, nil, append([]string{"--token", tok, "--progress", "100ms"}, extra...)...)
			testenv.Eventually(t, 15*time.Second, "media reaches the server", func() bool { v, au := a.Packets(pid); return v > 0 && au > 0 })
			testenv.Eventually(t, 15*time.Second, "progress on stderr", func() bool { return sentVideo(stderr.String()) > 0 })
			if err := stop(); err != nil {
				t.Fatalf("publish: %v\n%s", err, stderr)
			}
			if a.Sessions() != 0 {
				t.Errorf("the session was not deleted on interrupt")
			}
			if out := stderr.String(); !strings.Contains(out, "state: connected") || strings.Contains(out, tok) {
				t.Errorf("stderr: want the states, never the token:\n%s", out)
			}
		})
	}
}

// Without a token, publish asks the server for a publisher token with the
// admin key from API_SECRET_KEY, and publishes to the token's whip_url (the
// emulator's stage endpoint, pointed at the answerer here); when it stops,
// the broadcast it started ends on the server too.
func TestPublishCommandAsksServer(t *testing.T) {
	t.Chdir(t.TempDir()) // no ./.env
	a, srv := whipfake.Start(t)
	env := apitest.New(t, apitest.Options{Emulator: emulator.Options{BaseURL: srv.URL}})
	stderr, stop := publishRun(t, map[string]string{"API_SECRET_KEY": apitest.Key}, "--server", env.URL, "--user-id", "cli-host")
	var pid string
	testenv.Eventually(t, 15*time.Second, "a publisher token", func() bool {
		m := regexp.MustCompile(`participant (\S+)`).FindStringSubmatch(stderr.String())
		if m != nil {
			pid = m[1]
		}
		return pid != ""
	})
	testenv.Eventually(t, 15*time.Second, "media reaches the server", func() bool { v, _ := a.Packets(pid); return v > 0 })
	pub, err := env.Live.PublisherInfo(context.Background())
	if err != nil || pub.UserID != "cli-host" || pub.ParticipantID != pid {
		t.Errorf("the server's publisher: %+v, %v", pub, err)
	}
	if err := stop(); err != nil {
		t.Fatalf("publish: %v\n%s", err, stderr)
	}
	if a.Sessions() != 0 {
		t.Error("the session was not deleted")
	}
	if _, err := env.Live.PublisherInfo(context.Background()); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Errorf("the server still has a live publisher after publish stopped: %v", err)
	}
}

// Refusals name what went wrong: a wrong key is the server's 401, a token
// that may not publish is the WHIP endpoint's 403, and --duration ends the
// session by itself.
func TestPublishCommandErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	_, srv := whipfake.Start(t)
	env := apitest.New(t, apitest.Options{Emulator: emulator.Options{BaseURL: srv.URL}})
	whipURL := srv.URL + "/whip/" + whipfake.StageID
	lookup := func(k string) (string, bool) { return "", false }

	err := run(context.Background(), []string{"publish", "--server", env.URL, "--key", "wrong-key-0123456789"}, lookup, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong key: %v, want the server's 401", err)
	}
	viewer, _ := whipfake.Token(t, whipURL, ivslive.Subscribe)
	err = run(context.Background(), []string{"publish", "--token", viewer}, lookup, &bytes.Buffer{}, &bytes.Buffer{})
	var refused *whip.RefusedError
	if !errors.As(err, &refused) || refused.Status != http.StatusForbidden {
		t.Errorf("SUBSCRIBE token: %v, want the WHIP endpoint's 403", err)
	}
	if err := run(context.Background(), []string{"publish", "--token", "nonsense"}, lookup, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--token") {
		t.Errorf("malformed token: %v", err)
	}

	tok, _ := whipfake.Token(t, whipURL, ivslive.Publish)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"publish", "--token", tok, "--duration", "500ms"}, lookup, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("--duration: %v", err)
	}
	if !strings.Contains(out.String(), "DELETE sent") {
		t.Errorf("stdout %q", out.String())
	}
}

// sentVideo reads the latest progress line's video packet count.
func sentVideo(stderr string) int {
	m := regexp.MustCompile(`sent video (\d+) packets`).FindAllStringSubmatch(stderr, -1)
	if len(m) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}
