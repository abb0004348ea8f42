package whip_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whipfake"
	"github.com/ivslive/ivslive/whip"
)

// The tests run against whipfake's answerer: a pion peer behind an
// httptest server that forwards a publisher's RTP to its subscribers.

func clip(t *testing.T) *whip.Clip {
	t.Helper()
	c, err := whip.TestPattern()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// client returns an HTTP client of the test's own, so its idle connections
// can be closed and counted out.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestPublishAndSubscribe(t *testing.T) {
	a, srv := whipfake.Start(t)
	whipURL := srv.URL + "/whip/" + whipfake.StageID
	pubTok, pid := whipfake.Token(t, whipURL, ivslive.Publish, ivslive.Subscribe)
	subTok, _ := whipfake.Token(t, whipURL, ivslive.Subscribe)
	ctx := context.Background()
	hc := client(t)

	var mu sync.Mutex
	var states []string
	pub, err := whip.Publish(ctx, whipURL, pubTok, clip(t), whip.Options{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if want := srv.URL + "/whip/session/s1"; pub.Location() != want {
		t.Errorf("Location %q, want %q (resolved against the WHIP URL)", pub.Location(), want)
	}
	sub, err := whip.Subscribe(ctx, whipURL, pid, subTok, whip.Options{HTTPClient: hc,
		OnState: func(s webrtc.PeerConnectionState) { mu.Lock(); states = append(states, s.String()); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	testenv.Eventually(t, 10*time.Second, "the subscriber receives video and audio", func() bool {
		s := sub.Stats()
		return s.Video.Packets > 0 && s.Audio.Packets > 0 && s.Video.Bytes > 0 && s.Audio.Bytes > 0
	})
	st := sub.Stats()
	if st.State != "connected" || st.Video.First.IsZero() || st.Video.Last.Before(st.Video.First) {
		t.Errorf("subscriber stats %+v", st)
	}
	ps := pub.Stats()
	if ps.Video.Packets == 0 || ps.Audio.Packets == 0 || ps.Video.Bytes < st.Video.Bytes {
		t.Errorf("publisher sent %+v, subscriber received %+v", ps, st)
	}
	if v, au := a.Packets(pid); v == 0 || au == 0 {
		t.Errorf("the answerer got %d video and %d audio packets", v, au)
	}

	if err := sub.Close(); err != nil {
		t.Errorf("close the subscriber: %v", err)
	}
	if err := pub.Close(); err != nil {
		t.Errorf("close the publisher: %v", err)
	}
	if err := pub.Close(); err != nil {
		t.Errorf("close twice: %v", err)
	}
	if n := a.Sessions(); n != 0 {
		t.Errorf("%d sessions left on the server: Close must DELETE them", n)
	}
	deletes := 0
	for _, r := range a.Requests() {
		if r.Method == "DELETE" {
			deletes++
			if !strings.HasPrefix(r.Authorization, "Bearer ") {
				t.Errorf("DELETE %s without the bearer token", r.Path)
			}
		}
	}
	if deletes != 2 {
		t.Errorf("%d DELETEs, want one per session (a second Close sends none)", deletes)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) == 0 || states[len(states)-1] != "closed" {
		t.Errorf("OnState saw %v, want it to end with closed", states)
	}
}

// IVS's global WHIP host answers 307 with a regional URL: the offer follows
// it with the token, though Go's client drops Authorization on a new host,
// and the Location is resolved against the URL that answered.
func TestPublishFollowsRedirect(t *testing.T) {
	a, srv := whipfake.Start(t)
	tok, _ := whipfake.Token(t, srv.URL+"/whip/"+whipfake.StageID, ivslive.Publish)
	pub, err := whip.Publish(context.Background(), srv.URL+"/redirect/whip/"+whipfake.StageID, tok, clip(t), whip.Options{HTTPClient: client(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pub.Location(), "http://localhost:") {
		t.Errorf("Location %q: want it resolved against the redirected URL (localhost)", pub.Location())
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	reqs := a.Requests()
	if len(reqs) != 3 {
		t.Fatalf("requests %+v, want POST, POST, DELETE", reqs)
	}
	for i, r := range reqs {
		if r.Authorization != "Bearer "+tok {
			t.Errorf("request %d (%s %s on %s) lacks the token", i, r.Method, r.Path, r.Host)
		}
	}
	if !strings.HasPrefix(reqs[1].Host, "localhost:") || reqs[1].Path != "/whip/"+whipfake.StageID {
		t.Errorf("the redirected offer went to %s%s", reqs[1].Host, reqs[1].Path)
	}
}

// The token never follows a redirect from https to plain http.
func TestPublishRefusesDowngrade(t *testing.T) {
	_, plain := whipfake.Start(t)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/whip/"+whipfake.StageID, http.StatusTemporaryRedirect)
	}))
	defer tlsSrv.Close()
	tok, _ := whipfake.Token(t, plain.URL+"/whip/"+whipfake.StageID, ivslive.Publish)
	_, err := whip.Publish(context.Background(), tlsSrv.URL+"/whip/"+whipfake.StageID, tok, clip(t), whip.Options{HTTPClient: tlsSrv.Client()})
	if err == nil || !strings.Contains(err.Error(), "refusing a redirect from https") {
		t.Fatalf("err %v, want the downgrade refused", err)
	}
}

// A refusal names the status and the server's reason, and leaves nothing
// behind.
func TestPublishRefused(t *testing.T) {
	_, srv := whipfake.Start(t)
	whipURL := srv.URL + "/whip/" + whipfake.StageID
	subOnly, _ := whipfake.Token(t, whipURL, ivslive.Subscribe)
	_, err := whip.Publish(context.Background(), whipURL, subOnly, clip(t), whip.Options{HTTPClient: client(t)})
	var refused *whip.RefusedError
	if !errors.As(err, &refused) || refused.Status != http.StatusForbidden || !strings.Contains(refused.Body, "does not allow publishing") {
		t.Fatalf("publish with a SUBSCRIBE token: %v, want a 403 naming the reason", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "403 Forbidden") || strings.Contains(msg, subOnly) {
		t.Errorf("error %q: want the status, never the token", msg)
	}

	_, err = whip.Subscribe(context.Background(), whipURL, "nobody", subOnly, whip.Options{HTTPClient: client(t)})
	if !errors.As(err, &refused) || refused.Status != http.StatusNotFound {
		t.Fatalf("subscribe to a participant who is not publishing: %v, want 404", err)
	}
	if _, err := whip.Publish(context.Background(), srv.URL+"/nowhere", subOnly, clip(t), whip.Options{HTTPClient: client(t)}); !errors.As(err, &refused) || refused.Status != http.StatusNotFound {
		t.Errorf("publish to a wrong URL: %v, want 404", err)
	}
}

// A 201 without a Location is an error, and the offer is not left open.
func TestPublishNeedsLocation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	_, err := whip.Publish(context.Background(), srv.URL, "t", clip(t), whip.Options{HTTPClient: client(t)})
	if err == nil || !strings.Contains(err.Error(), "no Location") {
		t.Fatalf("err %v, want no Location", err)
	}
}

// The session lives as long as its context; ending it DELETEs the resource.
func TestPublishEndsWithContext(t *testing.T) {
	a, srv := whipfake.Start(t)
	whipURL := srv.URL + "/whip/" + whipfake.StageID
	tok, pid := whipfake.Token(t, whipURL, ivslive.Publish)
	ctx, cancel := context.WithCancel(context.Background())
	pub, err := whip.Publish(ctx, whipURL, tok, clip(t), whip.Options{HTTPClient: client(t)})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "media reaches the answerer", func() bool { v, _ := a.Packets(pid); return v > 0 })
	cancel()
	select {
	case <-pub.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end with its context")
	}
	if err := pub.Err(); err != nil {
		t.Errorf("Err after the context ended: %v, want nil", err)
	}
	if a.Sessions() != 0 {
		t.Error("the resource was not deleted")
	}
}

// A keyframe request is answered with the clip's next IDR at once, not at
// the next GOP boundary: some IDR must arrive at an RTP time that is not a
// multiple of the clip's 1 s keyframe interval.
func TestPublishHonoursPLI(t *testing.T) {
	a, srv := whipfake.Start(t)
	whipURL := srv.URL + "/whip/" + whipfake.StageID
	tok, pid := whipfake.Token(t, whipURL, ivslive.Publish)
	pub, err := whip.Publish(context.Background(), whipURL, tok, clip(t), whip.Options{HTTPClient: client(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	testenv.Eventually(t, 10*time.Second, "video reaches the answerer", func() bool { v, _ := a.Packets(pid); return v > 0 })
	const gop = 90000 // 1 s at 90 kHz
	early := func() bool {
		for _, ts := range a.Keyframes(pid) {
			if off := ts % gop; off > 1500 && off < gop-1500 { // more than half a frame from a boundary
				return true
			}
		}
		return false
	}
	testenv.Eventually(t, 10*time.Second, "an IDR sent in answer to a PLI", func() bool {
		if !early() {
			a.RequestKeyframe(pid)
			return false
		}
		return true
	})
	if s := pub.Stats(); s.PLIs == 0 || s.Keyframes == 0 {
		t.Errorf("stats %+v: want the PLIs and the early keyframes counted", s)
	}
}

// Close frees everything: the UDP ports of the client's candidates are free
// again as soon as Close returns, though the server kept its side open, and
// no goroutine or socket outlives the sessions (counted for the whole
// process once the answerer is closed too).
func TestCloseFreesResources(t *testing.T) {
	a, srv := whipfake.Start(t)
	a.KeepOnDelete = true
	whipURL := srv.URL + "/whip/" + whipfake.StageID
	pubTok, pid := whipfake.Token(t, whipURL, ivslive.Publish)
	subTok, _ := whipfake.Token(t, whipURL, ivslive.Subscribe)
	goroutines, fds := runtime.NumGoroutine(), openFiles(t)

	// The default HTTP client: its connections are the session's to close.
	pub, err := whip.Publish(context.Background(), whipURL, pubTok, clip(t), whip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := whip.Subscribe(context.Background(), whipURL, pid, subTok, whip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "media flows", func() bool { return sub.Stats().Video.Packets > 0 })
	if openFiles(t) <= fds {
		t.Fatal("no sockets were opened: the count below proves nothing")
	}
	closeWithin(t, sub)
	closeWithin(t, pub)
	ports := 0
	for _, offer := range a.Offers() {
		for _, addr := range candidates(offer) {
			ln, err := net.ListenPacket("udp", addr)
			if err != nil {
				t.Errorf("candidate %s still bound after Close: %v", addr, err)
				continue
			}
			ln.Close()
			ports++
		}
	}
	if ports == 0 {
		t.Error("no candidate was checked")
	}
	a.Close()
	testenv.Eventually(t, 10*time.Second, "goroutines and sockets back to where they were", func() bool {
		return runtime.NumGoroutine() <= goroutines && openFiles(t) <= fds
	})
}

// closeWithin closes a session, failing the test if that takes more than
// 10 s (a teardown waiting for goroutines that never end).
func closeWithin(t *testing.T, s interface{ Close() error }) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10 s")
	}
}

// candidates returns the host:port of every UDP candidate in an SDP.
func candidates(sdp string) []string {
	var out []string
	for _, line := range strings.Split(sdp, "\r\n") {
		f := strings.Fields(strings.TrimPrefix(line, "a=candidate:"))
		if strings.HasPrefix(line, "a=candidate:") && len(f) >= 6 && strings.EqualFold(f[2], "udp") {
			out = append(out, net.JoinHostPort(f[4], f[5]))
		}
	}
	return out
}

// openFiles counts the process's open file descriptors (sockets included).
func openFiles(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(entries)
}
