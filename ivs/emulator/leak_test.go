package emulator

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"go.uber.org/goleak"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
)

// httpIdle are the goroutines of kept-alive HTTP connections, which belong
// to the test's clients and servers rather than to the emulator.
var httpIdle = []goleak.Option{
	goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
}

// Every test of the package leaves no goroutine behind: emulators are
// closed at cleanup, and closing frees their peers, sinks and sweeper.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, httpIdle...)
}

// Peers that end (DELETE, or the remote going away) free every goroutine
// while the emulator keeps running.
func TestClosedPeersFreeEverything(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "hygiene")
	arn := aws.ToString(st.Arn)
	cycle := func() {
		hostID, hostToken := h.token(t, arn, "", publishCaps...)
		pub := h.publish(t, st, hostToken, whiptest.PublishOptions{})
		h.waitPublishing(t, arn, hostID)
		var subs []*whiptest.Subscriber
		for range 3 {
			_, viewer := h.token(t, arn, "", subscribeOnly...)
			sub := h.subscribe(t, st, hostID, viewer)
			receiving(t, sub, "media at a subscriber")
			subs = append(subs, sub)
		}
		// One subscriber hangs up properly, one just goes away, and the
		// host's DELETE ends the last.
		if resp, err := subs[0].Delete(t.Context(), h.srv.Client()); err != nil || resp.Status != http.StatusOK {
			t.Fatalf("subscriber DELETE: %v %+v", err, resp)
		}
		subs[1].Close()
		testenv.Eventually(t, 5*time.Second, "the closed subscriber's connection ended", func() bool { return h.em.connCount() == 2 })
		h.clock.Add(time.Minute)
		h.em.Sweep()
		if resp, err := pub.Delete(t.Context(), h.srv.Client()); err != nil || resp.Status != http.StatusOK {
			t.Fatalf("publisher DELETE: %v %+v", err, resp)
		}
		subs[2].Close()
		if n := h.em.connCount(); n != 0 {
			t.Fatalf("%d connections left", n)
		}
		testenv.Eventually(t, 5*time.Second, "every peer closed", func() bool { return h.em.engine.Peers() == 0 })
	}
	cycle() // starts the media plane, which stays
	baseline := append([]goleak.Option{goleak.IgnoreCurrent()}, httpIdle...)
	cycle()
	goleak.VerifyNone(t, baseline...)
}

// Close disconnects everyone, releases the UDP port and answers the data
// plane with 503.
func TestCloseFreesEverything(t *testing.T) {
	baseline := append([]goleak.Option{goleak.IgnoreCurrent()}, httpIdle...)
	clock := newFakeClock()
	em, err := New(Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	h := &harness{em: em, srv: srv, client: newClient(srv.URL, 1), clock: clock}
	bridge := h.eventLog(t)
	st := h.createStage(t, "closing")
	arn := aws.ToString(st.Arn)
	hostID, hostToken := h.token(t, arn, "", publishCaps...)
	pub := h.publish(t, st, hostToken, whiptest.PublishOptions{})
	session := h.waitPublishing(t, arn, hostID)
	_, viewer := h.token(t, arn, "", subscribeOnly...)
	sub := h.subscribe(t, st, hostID, viewer)
	receiving(t, sub, "media at the subscriber")
	addr := em.engine.Addr()

	if err := em.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if p := h.participant(t, arn, session, hostID); p.State != types.ParticipantStateDisconnected {
		t.Errorf("host after Close: %s, want DISCONNECTED", p.State)
	}
	bridge.wait(t, "Participant Unpublished", hostID)
	ln, err := net.ListenUDP("udp", addr)
	if err != nil {
		t.Fatalf("the media port %v is still bound after Close: %v", addr, err)
	}
	ln.Close()
	late, err := whiptest.NewPublisher(whiptest.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := late.Connect(t.Context(), srv.Client(), h.whipURL(st), hostToken)
	if err != nil || resp.Status != http.StatusServiceUnavailable {
		t.Errorf("WHIP after Close = %v %+v, want 503", err, resp)
	}
	if err := em.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for _, c := range []interface{ Close() error }{late, pub, sub} {
		c.Close()
	}
	srv.Close()
	goleak.VerifyNone(t, baseline...)
}
