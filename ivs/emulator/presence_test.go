package emulator

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
)

// A subscriber that closes its peer connection (DTLS close_notify) has
// LEFT at once, not ConnectionTimeout later: a closed DTLS association
// cannot come back. Watchers are woken, and StageParticipants tells when it
// left.
func TestClosedSubscriberLeavesAtOnce(t *testing.T) {
	h := newHarness(t, Options{ConnectionTimeout: time.Hour})
	st := h.createStage(t, "presence")
	arn := aws.ToString(st.Arn)
	hostID, hostToken := h.token(t, arn, "host", publishCaps...)
	h.publish(t, st, hostToken, whiptest.PublishOptions{})
	session := h.waitPublishing(t, arn, hostID)
	viewerID, viewerToken := h.token(t, arn, "viewer-1", subscribeOnly...)
	changed, stop := h.em.WatchParticipants()
	defer stop()
	sub := h.subscribe(t, st, hostID, viewerToken)
	receiving(t, sub, "media at the subscriber")
	select {
	case <-changed:
	default:
		t.Fatal("no wake-up after the viewer joined")
	}
	info := func() ParticipantInfo {
		for _, p := range h.em.StageParticipants(arn) {
			if p.ParticipantID == viewerID {
				return p
			}
		}
		t.Fatalf("viewer %s not in StageParticipants", viewerID)
		return ParticipantInfo{}
	}
	if p := info(); !p.Connected || p.FirstJoin.IsZero() || !p.LeftAt.IsZero() || p.SessionID != session || p.UserID != "viewer-1" {
		t.Fatalf("viewer before closing = %+v, want connected, joined, never left", p)
	}

	h.clock.Add(7 * time.Second)
	sub.Close()
	testenv.Eventually(t, 5*time.Second, "the viewer DISCONNECTED", func() bool {
		return h.participant(t, arn, session, viewerID).State == types.ParticipantStateDisconnected
	})
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up after the viewer left")
	}
	if p := info(); p.Connected || !p.LeftAt.Equal(h.clock.Now().UTC()) {
		t.Fatalf("viewer after closing = %+v, want disconnected, left at %v", p, h.clock.Now())
	}
	if got := eventNames(h.events(t, arn, session, viewerID)); len(got) != 4 || got[3] != "LEFT" {
		t.Fatalf("viewer events = %v, want JOINED, SUBSCRIBE_STARTED, SUBSCRIBE_STOPPED, LEFT", got)
	}
}
