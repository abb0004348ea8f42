package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
)

var (
	publishCaps   = []types.ParticipantTokenCapability{types.ParticipantTokenCapabilityPublish, types.ParticipantTokenCapabilitySubscribe}
	subscribeOnly = []types.ParticipantTokenCapability{types.ParticipantTokenCapabilitySubscribe}
	publishOnly   = []types.ParticipantTokenCapability{types.ParticipantTokenCapabilityPublish}
)

// A host publishes over WHIP, a viewer watches, the participant APIs and
// EventBridge tell the story; DELETE ends it.
func TestPublishWatchAndLeave(t *testing.T) {
	h := newHarness(t, Options{})
	bridge := h.eventLog(t)
	st := h.createStage(t, "live")
	arn := aws.ToString(st.Arn)
	hostID, hostToken := h.token(t, arn, "host-1", publishCaps...)
	viewerID, viewerToken := h.token(t, arn, "viewer-1", subscribeOnly...)

	pub := h.publish(t, st, hostToken, whiptest.PublishOptions{})
	session := h.waitPublishing(t, arn, hostID)
	if n := pub.KeyframeRequests(); n != 0 {
		t.Fatalf("%d keyframe requests before anyone subscribed", n)
	}
	sub := h.subscribe(t, st, hostID, viewerToken)
	testenv.Eventually(t, 5*time.Second, "RTP at the subscriber", func() bool {
		packets, bytes, video := sub.Received()
		return packets > 0 && bytes > 0 && video > 0
	})
	// A new subscriber needs a keyframe: the emulator asks the publisher.
	testenv.Eventually(t, 5*time.Second, "a keyframe request at the publisher", func() bool { return pub.KeyframeRequests() > 0 })

	list, err := h.client.ListParticipants(t.Context(), &ivsrealtime.ListParticipantsInput{StageArn: st.Arn, SessionId: aws.String(session)})
	if err != nil {
		t.Fatalf("ListParticipants: %v", err)
	}
	if len(list.Participants) != 2 {
		t.Fatalf("ListParticipants = %+v, want the host and the viewer", list.Participants)
	}
	host := list.Participants[0]
	if aws.ToString(host.ParticipantId) != hostID || host.State != types.ParticipantStateConnected || !host.Published ||
		aws.ToString(host.UserId) != "host-1" || host.ReplicationType != types.ReplicationTypeNone || host.FirstJoinTime == nil {
		t.Errorf("host summary = %+v, want CONNECTED, published, userId host-1, not replicated", host)
	}
	if v := list.Participants[1]; aws.ToString(v.ParticipantId) != viewerID || v.Published || v.State != types.ParticipantStateConnected {
		t.Errorf("viewer summary = %+v, want CONNECTED, not published", v)
	}
	full := h.participant(t, arn, session, hostID)
	if full.Protocol != types.ParticipantProtocolWhip || full.Attributes["role"] != "test" {
		t.Errorf("host = protocol %s, attributes %v; want WHIP and the token's attributes", full.Protocol, full.Attributes)
	}
	if diff := cmp.Diff([]string{"JOINED", "PUBLISH_STARTED"}, eventNames(h.events(t, arn, session, hostID))); diff != "" {
		t.Errorf("host events (-want +got):\n%s", diff)
	}
	viewerEvents := h.events(t, arn, session, viewerID)
	if diff := cmp.Diff([]string{"JOINED", "SUBSCRIBE_STARTED"}, eventNames(viewerEvents)); diff != "" {
		t.Errorf("viewer events (-want +got):\n%s", diff)
	} else if got := aws.ToString(viewerEvents[1].RemoteParticipantId); got != hostID {
		t.Errorf("SUBSCRIBE_STARTED remoteParticipantId = %q, want %q", got, hostID)
	}
	published := bridge.wait(t, "Participant Published", hostID)
	want := EventBridgeEvent{Version: "0", ID: published.ID, DetailType: "IVS Stage Update", Source: "aws.ivs",
		Account: "123456789012", Time: published.Time, Region: "us-east-1", Resources: []string{arn},
		Detail: StageUpdate{SessionID: session, EventName: "Participant Published", ParticipantID: hostID, UserID: "host-1",
			EventTime: published.Detail.EventTime}}
	if diff := cmp.Diff(want, published); diff != "" || published.ID == "" || published.Time == "" {
		t.Errorf("Participant Published event (-want +got):\n%s", diff)
	}

	// The host hangs up with DELETE: once is enough, twice is a 404.
	resp, err := whiptest.Delete(t.Context(), h.srv.Client(), pub.Resource, "")
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("DELETE %s: %v %+v", pub.Resource, err, resp)
	}
	resp, err = whiptest.Delete(t.Context(), h.srv.Client(), pub.Resource, "")
	if err != nil || resp.Status != http.StatusNotFound {
		t.Fatalf("second DELETE: %v %+v, want 404", err, resp)
	}
	if diff := cmp.Diff([]string{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"}, eventNames(h.events(t, arn, session, hostID))); diff != "" {
		t.Errorf("host events after DELETE (-want +got):\n%s", diff)
	}
	if p := h.participant(t, arn, session, hostID); p.State != types.ParticipantStateDisconnected || !p.Published {
		t.Errorf("host after DELETE: %s, published %v; want DISCONNECTED, published", p.State, p.Published)
	}
	// Its viewers' subscriptions end with it.
	if diff := cmp.Diff([]string{"JOINED", "SUBSCRIBE_STARTED", "SUBSCRIBE_STOPPED", "LEFT"}, eventNames(h.events(t, arn, session, viewerID))); diff != "" {
		t.Errorf("viewer events after the host left (-want +got):\n%s", diff)
	}
	unpublished := bridge.wait(t, "Participant Unpublished", hostID)
	if unpublished.Detail.SessionID != session || unpublished.Detail.UserID != "host-1" || unpublished.Resources[0] != arn {
		t.Errorf("Participant Unpublished = %+v", unpublished)
	}
	if diff := cmp.Diff([]string{"Participant Published", "Participant Unpublished"}, bridge.names(hostID)); diff != "" {
		t.Errorf("EventBridge events about the host (-want +got):\n%s", diff)
	}

	// The session ends a few minutes after the last participant left.
	h.clock.Add(3*time.Minute - time.Second)
	h.em.Sweep()
	if got := h.activeSession(t, arn); got != session {
		t.Fatalf("activeSessionId %q before the end delay, want %q", got, session)
	}
	h.clock.Add(time.Second)
	h.em.Sweep()
	if got := h.activeSession(t, arn); got != "" {
		t.Fatalf("activeSessionId %q after the end delay, want none", got)
	}
	ended, err := h.client.GetStageSession(t.Context(), &ivsrealtime.GetStageSessionInput{StageArn: st.Arn, SessionId: aws.String(session)})
	if err != nil || ended.StageSession.EndTime == nil || !ended.StageSession.EndTime.Equal(h.clock.Now().Truncate(time.Millisecond)) {
		t.Errorf("GetStageSession after the end = %+v, %v; want endTime %v", ended, err, h.clock.Now())
	}
}

// A publisher whose peer connection is lost without DELETE (the network
// dropped: ICE disconnected, no close_notify) leaves after ConnectionTimeout
// of the emulator's clock, and so does one that never connects.
func TestConnectionLossIsLeftAfterTimeout(t *testing.T) {
	h := newHarness(t, Options{ConnectionTimeout: 10 * time.Second})
	st := h.createStage(t, "loss")
	arn := aws.ToString(st.Arn)
	hostID, hostToken := h.token(t, arn, "host", publishCaps...)
	h.publish(t, st, hostToken, whiptest.PublishOptions{})
	session := h.waitPublishing(t, arn, hostID)
	// The media plane reports ICE loss through this hook; a test cannot
	// cut loopback UDP, so it calls the hook itself.
	h.em.lost(h.em.connOf(hostID))
	if n := h.em.lostConns(); n != 1 {
		t.Fatalf("%d lost connections, want the host's", n)
	}
	h.clock.Add(10*time.Second - time.Millisecond)
	h.em.Sweep()
	if p := h.participant(t, arn, session, hostID); p.State != types.ParticipantStateConnected {
		t.Fatalf("host %s before the loss timeout, want CONNECTED", p.State)
	}
	h.clock.Add(time.Millisecond)
	h.em.Sweep()
	if p := h.participant(t, arn, session, hostID); p.State != types.ParticipantStateDisconnected {
		t.Fatalf("host %s after the loss timeout, want DISCONNECTED", p.State)
	}
	if diff := cmp.Diff([]string{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"}, eventNames(h.events(t, arn, session, hostID))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// An offer answered but never connected.
	ghostID, ghostToken := h.token(t, arn, "ghost", publishCaps...)
	ghost, err := whiptest.NewPublisher(whiptest.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ghost.Close()
	offer, err := ghost.Offer()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := whiptest.Post(t.Context(), h.srv.Client(), h.whipURL(st), ghostToken, offer)
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("POST: %v %+v", err, resp)
	}
	if p := h.participant(t, arn, session, ghostID); p.State != types.ParticipantStateConnected {
		t.Fatalf("ghost %s after its answer, want CONNECTED (joined)", p.State)
	}
	h.clock.Add(10 * time.Second)
	h.em.Sweep()
	if diff := cmp.Diff([]string{"JOINED", "LEFT"}, eventNames(h.events(t, arn, session, ghostID))); diff != "" {
		t.Errorf("ghost events (-want +got):\n%s", diff)
	}
	if n := h.em.connCount(); n != 0 {
		t.Errorf("%d connections left", n)
	}
}

// connCount counts the open connections.
func (e *Emulator) connCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}

// connOf returns the id of a participant's (only) connection.
func (e *Emulator) connOf(pid string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, c := range e.conns {
		if c.p.ID == pid {
			return id
		}
	}
	return ""
}

// lostConns counts the connections not connected now.
func (e *Emulator) lostConns() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.conns {
		if !c.lostAt.IsZero() {
			n++
		}
	}
	return n
}

// Media IVS would refuse: the offer is refused outright, the stream is cut
// when it breaks a rule; both are recorded as PUBLISH_ERROR.
func TestMediaRules(t *testing.T) {
	h := newHarness(t, Options{})
	bridge := h.eventLog(t)
	st := h.createStage(t, "rules")
	arn := aws.ToString(st.Arn)
	offers := []struct {
		name   string
		codecs whiptest.Codecs
		code   string
	}{
		{"VP8 video", whiptest.Codecs{Video: "VP8"}, "INVALID_VIDEO_CODEC"},
		{"high profile only", whiptest.Codecs{Profile: "640c1f"}, "INVALID_VIDEO_CODEC"},
		{"PCMU audio", whiptest.Codecs{Audio: "PCMU"}, "INVALID_AUDIO_CODEC"},
	}
	for _, tt := range offers {
		t.Run(tt.name, func(t *testing.T) {
			pid, token := h.token(t, arn, "", publishCaps...)
			pub, err := whiptest.NewPublisher(whiptest.PublishOptions{Codecs: tt.codecs})
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			resp, err := pub.Connect(t.Context(), h.srv.Client(), h.whipURL(st), token)
			if err != nil || resp.Status != http.StatusUnprocessableEntity || !strings.Contains(resp.Body, tt.code) {
				t.Fatalf("publish = %v %+v, want 422 with %s", err, resp, tt.code)
			}
			session := h.activeSession(t, arn)
			if diff := cmp.Diff([]string{"PUBLISH_ERROR:" + tt.code}, eventNames(h.events(t, arn, session, pid))); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if ev := bridge.wait(t, "Participant Publish Error", pid); ev.Detail.ErrorCode != tt.code {
				t.Errorf("EventBridge error_code = %q, want %s", ev.Detail.ErrorCode, tt.code)
			}
		})
	}

	t.Run("B frames", func(t *testing.T) {
		pid, token := h.token(t, arn, "", publishCaps...)
		h.publish(t, st, token, whiptest.PublishOptions{BFrames: true})
		var session string
		testenv.Eventually(t, 5*time.Second, "the B-frame publisher disconnected", func() bool {
			session = h.activeSession(t, arn)
			p, err := h.client.GetParticipant(t.Context(), &ivsrealtime.GetParticipantInput{StageArn: st.Arn,
				SessionId: aws.String(session), ParticipantId: aws.String(pid)})
			return err == nil && p.Participant.State == types.ParticipantStateDisconnected
		})
		want := []string{"JOINED", "PUBLISH_STARTED", "PUBLISH_ERROR:B_FRAME_PRESENT", "PUBLISH_STOPPED", "LEFT"}
		if diff := cmp.Diff(want, eventNames(h.events(t, arn, session, pid))); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if ev := bridge.wait(t, "Participant Publish Error", pid); ev.Detail.ErrorCode != "B_FRAME_PRESENT" {
			t.Errorf("EventBridge error_code = %q", ev.Detail.ErrorCode)
		}
	})
}
