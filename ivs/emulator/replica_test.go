package emulator

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
)

// receiving waits until sub has received more than n more packets.
func receiving(t *testing.T, sub *whiptest.Subscriber, what string) {
	t.Helper()
	before, _, _ := sub.Received()
	testenv.Eventually(t, 5*time.Second, what, func() bool {
		now, _, video := sub.Received()
		return now > before+10 && video > 0
	})
}

// A replica stage's viewer watches the host; the replication survives a
// reconnect within its window and ends when the host stays away past it.
func TestReplicaForwardsMedia(t *testing.T) {
	h := newHarness(t, Options{})
	bridge := h.eventLog(t)
	master, pool := h.createStage(t, "master"), h.createStage(t, "pool")
	masterArn, poolArn := aws.ToString(master.Arn), aws.ToString(pool.Arn)
	hostID, hostToken := h.token(t, masterArn, "host", publishCaps...)
	pub := h.publish(t, master, hostToken, whiptest.PublishOptions{})
	srcSession := h.waitPublishing(t, masterArn, hostID)

	if _, err := h.client.StartParticipantReplication(t.Context(), &ivsrealtime.StartParticipantReplicationInput{
		SourceStageArn: master.Arn, DestinationStageArn: pool.Arn, ParticipantId: aws.String(hostID),
		ReconnectWindowSeconds: aws.Int32(30), Attributes: map[string]string{"replica": "yes"},
	}); err != nil {
		t.Fatalf("StartParticipantReplication: %v", err)
	}
	dstSession := h.activeSession(t, poolArn)
	replica := h.participant(t, poolArn, dstSession, hostID)
	want := types.Participant{ParticipantId: aws.String(hostID), UserId: aws.String("host"), State: types.ParticipantStateConnected,
		FirstJoinTime: replica.FirstJoinTime, Published: true, Protocol: types.ParticipantProtocolWhip,
		Attributes: map[string]string{"role": "test", "replica": "yes"}, RecordingState: types.ParticipantRecordingStateDisabled,
		RecordingS3BucketName: aws.String(""), RecordingS3Prefix: aws.String(""),
		ReplicationType: types.ReplicationTypeReplica, ReplicationState: types.ReplicationStateActive,
		SourceStageArn: master.Arn, SourceSessionId: aws.String(srcSession)}
	if diff := cmp.Diff(&want, replica, sdkCmp()); diff != "" {
		t.Errorf("replica in the destination (-want +got):\n%s", diff)
	}
	if src := h.participant(t, masterArn, srcSession, hostID); src.ReplicationType != types.ReplicationTypeSource || src.ReplicationState != types.ReplicationStateActive {
		t.Errorf("source participant: %s %s, want SOURCE ACTIVE", src.ReplicationType, src.ReplicationState)
	}

	viewerID, viewerToken := h.token(t, poolArn, "viewer", subscribeOnly...)
	sub := h.subscribe(t, pool, hostID, viewerToken)
	receiving(t, sub, "the host's media in the replica stage")
	viewerEvents := h.events(t, poolArn, dstSession, viewerID)
	if len(viewerEvents) != 2 || viewerEvents[1].Name != types.EventNameSubscribeStarted || !viewerEvents[1].Replica {
		t.Errorf("viewer events %+v, want JOINED then SUBSCRIBE_STARTED of a replica", viewerEvents)
	}
	started := bridge.wait(t, "Participant Replication Started", hostID)
	if started.Resources[0] != masterArn || started.Detail.DestinationStageArn != poolArn || started.Detail.DestinationSessionID != dstSession {
		t.Errorf("Participant Replication Started = %+v", started)
	}

	// The host drops and comes back within the reconnect window, with the
	// same token: the replica keeps its viewer, who gets the new media.
	if resp, err := pub.Delete(t.Context(), h.srv.Client()); err != nil || resp.Status != 200 {
		t.Fatalf("DELETE: %v %+v", err, resp)
	}
	h.clock.Add(30*time.Second - time.Millisecond)
	h.em.Sweep()
	if got := h.replicas(t, masterArn, hostID); len(got) != 1 {
		t.Fatalf("replicas within the reconnect window: %+v", got)
	}
	pub2 := h.publish(t, master, hostToken, whiptest.PublishOptions{})
	h.waitPublishing(t, masterArn, hostID)
	receiving(t, sub, "the reconnected host's media in the replica stage")
	h.clock.Add(time.Minute)
	h.em.Sweep()
	if got := h.replicas(t, masterArn, hostID); len(got) != 1 {
		t.Fatalf("replicas after the host came back: %+v", got)
	}

	// Now it leaves for good: past the window the replication ends.
	if resp, err := pub2.Delete(t.Context(), h.srv.Client()); err != nil || resp.Status != 200 {
		t.Fatalf("DELETE: %v %+v", err, resp)
	}
	h.clock.Add(30 * time.Second)
	h.em.Sweep()
	if got := h.replicas(t, masterArn, hostID); len(got) != 0 {
		t.Fatalf("replicas past the reconnect window: %+v", got)
	}
	wantHost := []string{"JOINED", "PUBLISH_STARTED", "REPLICATION_STARTED", "PUBLISH_STOPPED", "LEFT",
		"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT", "REPLICATION_STOPPED"}
	hostEvents := h.events(t, masterArn, srcSession, hostID)
	if diff := cmp.Diff(wantHost, eventNames(hostEvents)); diff != "" {
		t.Errorf("host events (-want +got):\n%s", diff)
	} else if last := hostEvents[len(hostEvents)-1]; aws.ToString(last.DestinationStageArn) != poolArn || aws.ToString(last.DestinationSessionId) != dstSession {
		t.Errorf("REPLICATION_STOPPED = %+v, want the destination stage and session", last)
	}
	if diff := cmp.Diff([]string{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"}, eventNames(h.events(t, poolArn, dstSession, hostID))); diff != "" {
		t.Errorf("replica events (-want +got):\n%s", diff)
	}
	if p := h.participant(t, poolArn, dstSession, hostID); p.State != types.ParticipantStateDisconnected || p.ReplicationState != types.ReplicationStateStopped {
		t.Errorf("replica after the end: %s %s, want DISCONNECTED STOPPED", p.State, p.ReplicationState)
	}
	if diff := cmp.Diff([]string{"JOINED", "SUBSCRIBE_STARTED", "SUBSCRIBE_STOPPED", "LEFT"}, eventNames(h.events(t, poolArn, dstSession, viewerID))); diff != "" {
		t.Errorf("viewer events (-want +got):\n%s", diff)
	}
	stopped := bridge.wait(t, "Participant Replication Stopped", hostID)
	if stopped.Resources[0] != masterArn || stopped.Detail.SessionID != srcSession || stopped.Detail.DestinationStageArn != poolArn {
		t.Errorf("Participant Replication Stopped = %+v", stopped)
	}
	// The replica's publishing shows in the destination's own events.
	var poolUnpublished bool
	bridge.mu.Lock()
	for _, ev := range bridge.events {
		poolUnpublished = poolUnpublished || (ev.Resources[0] == poolArn && ev.Detail.EventName == "Participant Unpublished")
	}
	bridge.mu.Unlock()
	if !poolUnpublished {
		t.Error("no Participant Unpublished for the replica in the destination stage")
	}
}
