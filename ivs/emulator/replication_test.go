package emulator

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/google/go-cmp/cmp"
)

// stages creates n stages and returns their ARNs.
func (h *harness) stages(t *testing.T, n int) []string {
	t.Helper()
	arns := make([]string, n)
	for i := range arns {
		arns[i] = aws.ToString(h.createStage(t, "").Arn)
	}
	return arns
}

func (h *harness) startReplication(t *testing.T, src, dst, pid string) error {
	t.Helper()
	_, err := h.client.StartParticipantReplication(t.Context(), &ivsrealtime.StartParticipantReplicationInput{
		SourceStageArn: aws.String(src), DestinationStageArn: aws.String(dst), ParticipantId: aws.String(pid),
	})
	return err
}

func (h *harness) replicas(t *testing.T, src, pid string) []types.ParticipantReplica {
	t.Helper()
	out, err := h.client.ListParticipantReplicas(t.Context(), &ivsrealtime.ListParticipantReplicasInput{
		SourceStageArn: aws.String(src), ParticipantId: aws.String(pid),
	})
	if err != nil {
		t.Fatalf("ListParticipantReplicas: %v", err)
	}
	return out.Replicas
}

func (h *harness) activeSession(t *testing.T, arn string) string {
	t.Helper()
	out, err := h.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetStage: %v", err)
	}
	return aws.ToString(out.Stage.ActiveSessionId)
}

func TestReplicationLifecycle(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.stages(t, 3)
	h.em.SetPublishing(s[0], "host-1", true)
	_, err := h.client.StartParticipantReplication(t.Context(), &ivsrealtime.StartParticipantReplicationInput{
		SourceStageArn: aws.String(s[0]), DestinationStageArn: aws.String(s[1]), ParticipantId: aws.String("host-1"),
		ReconnectWindowSeconds: aws.Int32(300), Attributes: map[string]string{"replica": "true"},
	})
	if err != nil {
		t.Fatalf("StartParticipantReplication: %v", err)
	}
	if err := h.startReplication(t, s[0], s[2], "host-1"); err != nil {
		t.Fatalf("StartParticipantReplication 2: %v", err)
	}
	srcSession, dst1, dst2 := h.activeSession(t, s[0]), h.activeSession(t, s[1]), h.activeSession(t, s[2])
	session := regexp.MustCompile(`^st-[A-Za-z0-9]{13}$`)
	for _, id := range []string{srcSession, dst1, dst2} {
		if !session.MatchString(id) {
			t.Errorf("session id %q is not st- and 13 alphanumerics", id)
		}
	}
	want := []types.ParticipantReplica{
		{SourceStageArn: aws.String(s[0]), ParticipantId: aws.String("host-1"), SourceSessionId: aws.String(srcSession),
			DestinationStageArn: aws.String(s[1]), DestinationSessionId: aws.String(dst1), ReplicationState: types.ReplicationStateActive},
		{SourceStageArn: aws.String(s[0]), ParticipantId: aws.String("host-1"), SourceSessionId: aws.String(srcSession),
			DestinationStageArn: aws.String(s[2]), DestinationSessionId: aws.String(dst2), ReplicationState: types.ReplicationStateActive},
	}
	if diff := cmp.Diff(want, h.replicas(t, s[0], "host-1"), sdkCmp()); diff != "" {
		t.Errorf("replicas (-want +got):\n%s", diff)
	}
	if got := h.replicas(t, s[1], "host-1"); len(got) != 0 {
		t.Errorf("replicas listed for the destination as source: %v", got)
	}

	err = h.startReplication(t, s[0], s[1], "host-1")
	wantAPIError[*types.ConflictException](t, err, "already replicated")

	if _, err := h.client.StopParticipantReplication(t.Context(), &ivsrealtime.StopParticipantReplicationInput{
		SourceStageArn: aws.String(s[0]), DestinationStageArn: aws.String(s[1]), ParticipantId: aws.String("host-1"),
	}); err != nil {
		t.Fatalf("StopParticipantReplication: %v", err)
	}
	if got := h.replicas(t, s[0], "host-1"); len(got) != 1 || aws.ToString(got[0].DestinationStageArn) != s[2] {
		t.Errorf("after stop, replicas = %v, want only %s", got, s[2])
	}
	if id := h.activeSession(t, s[1]); id != dst1 {
		t.Errorf("destination session %q right after its only replication stopped, want %q until the end delay", id, dst1)
	}
	h.clock.Add(3 * time.Minute)
	h.em.Sweep()
	if id := h.activeSession(t, s[1]); id != "" {
		t.Errorf("destination kept session %q past the end delay after its only replication stopped", id)
	}
	_, err = h.client.StopParticipantReplication(t.Context(), &ivsrealtime.StopParticipantReplicationInput{
		SourceStageArn: aws.String(s[0]), DestinationStageArn: aws.String(s[1]), ParticipantId: aws.String("host-1"),
	})
	wantAPIError[*types.ResourceNotFoundException](t, err, "no active replication")

	// Deleting the destination stops the replication into it.
	if _, err := h.client.DeleteStage(t.Context(), &ivsrealtime.DeleteStageInput{Arn: aws.String(s[2])}); err != nil {
		t.Fatalf("DeleteStage: %v", err)
	}
	if got := h.replicas(t, s[0], "host-1"); len(got) != 0 {
		t.Errorf("replicas after deleting the destination: %v", got)
	}
	// The host still publishes, so the source's session goes on.
	if id := h.activeSession(t, s[0]); id != srcSession {
		t.Errorf("source session %q, want %q while the host publishes", id, srcSession)
	}
}

func TestDeleteSourceStageStopsReplications(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.stages(t, 2)
	h.em.SetPublishing(s[0], "p", true)
	if err := h.startReplication(t, s[0], s[1], "p"); err != nil {
		t.Fatalf("StartParticipantReplication: %v", err)
	}
	if _, err := h.client.DeleteStage(t.Context(), &ivsrealtime.DeleteStageInput{Arn: aws.String(s[0])}); err != nil {
		t.Fatalf("DeleteStage: %v", err)
	}
	if got := h.replicas(t, s[0], "p"); len(got) != 0 {
		t.Errorf("replicas after deleting the source: %v", got)
	}
	h.clock.Add(3 * time.Minute)
	h.em.Sweep()
	if id := h.activeSession(t, s[1]); id != "" {
		t.Errorf("destination kept session %q past the end delay", id)
	}
}

func TestReplicationValidationAndNotFound(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.stages(t, 2)
	missing := "arn:aws:ivs:us-east-1:123456789012:stage/missing"
	input := func(src, dst, pid string) ivsrealtime.StartParticipantReplicationInput {
		return ivsrealtime.StartParticipantReplicationInput{SourceStageArn: aws.String(src), DestinationStageArn: aws.String(dst), ParticipantId: aws.String(pid)}
	}
	with := func(in ivsrealtime.StartParticipantReplicationInput, mut func(*ivsrealtime.StartParticipantReplicationInput)) ivsrealtime.StartParticipantReplicationInput {
		mut(&in)
		return in
	}
	tests := []struct {
		name     string
		in       ivsrealtime.StartParticipantReplicationInput
		notFound bool // else ValidationException
		fragment string
	}{
		{"same stage", input(s[0], s[0], "p"), false, "destinationStageArn"},
		{"underscore in participant", input(s[0], s[1], "p_1"), false, "'participantId'"},
		{"participant too long", input(s[0], s[1], longString(65)), false, "'participantId'"},
		{"reconnect window 301", with(input(s[0], s[1], "p"), func(in *ivsrealtime.StartParticipantReplicationInput) {
			in.ReconnectWindowSeconds = aws.Int32(301)
		}), false, "'reconnectWindowSeconds'"},
		{"reconnect window negative", with(input(s[0], s[1], "p"), func(in *ivsrealtime.StartParticipantReplicationInput) {
			in.ReconnectWindowSeconds = aws.Int32(-1)
		}), false, "'reconnectWindowSeconds'"},
		{"attributes over 1 KB", with(input(s[0], s[1], "p"), func(in *ivsrealtime.StartParticipantReplicationInput) {
			in.Attributes = map[string]string{"k": longString(1024)}
		}), false, "'attributes'"},
		{"bad source arn", input("stage", s[1], "p"), false, "'sourceStageArn'"},
		{"bad destination arn", input(s[0], "arn:aws:ivs:us-east-1:1:public-key/x", "p"), false, "'destinationStageArn'"},
		{"source missing", input(missing, s[1], "p"), true, missing},
		{"destination missing", input(s[0], missing, "p"), true, missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.StartParticipantReplication(t.Context(), &tt.in)
			if tt.notFound {
				wantAPIError[*types.ResourceNotFoundException](t, err, tt.fragment)
			} else {
				wantAPIError[*types.ValidationException](t, err, tt.fragment)
			}
		})
	}
	_, err := h.client.ListParticipantReplicas(t.Context(), &ivsrealtime.ListParticipantReplicasInput{
		SourceStageArn: aws.String(s[0]), ParticipantId: aws.String("p"), MaxResults: aws.Int32(51),
	})
	wantAPIError[*types.ValidationException](t, err, "'maxResults'")
	if got := h.replicas(t, missing, "p"); len(got) != 0 {
		t.Errorf("replicas of a missing stage = %v, want none", got)
	}
}

func TestReplicationQuotaAndPagination(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.stages(t, 8)
	h.em.SetPublishing(s[0], "star", true)
	h.em.SetPublishing(s[7], "star", true)
	h.em.SetPublishing(s[0], "guest", true)
	for _, dst := range s[1:6] {
		if err := h.startReplication(t, s[0], dst, "star"); err != nil {
			t.Fatalf("StartParticipantReplication: %v", err)
		}
	}
	err := h.startReplication(t, s[0], s[6], "star")
	wantAPIError[*types.ServiceQuotaExceededException](t, err, "star")
	// The quota counts across source stages too.
	err = h.startReplication(t, s[7], s[6], "star")
	wantAPIError[*types.ServiceQuotaExceededException](t, err)
	// Other participants are unaffected.
	if err := h.startReplication(t, s[0], s[6], "guest"); err != nil {
		t.Fatalf("StartParticipantReplication guest: %v", err)
	}

	var dsts []string
	var token *string
	pages := 0
	for {
		out, err := h.client.ListParticipantReplicas(t.Context(), &ivsrealtime.ListParticipantReplicasInput{
			SourceStageArn: aws.String(s[0]), ParticipantId: aws.String("star"), MaxResults: aws.Int32(2), NextToken: token,
		})
		if err != nil {
			t.Fatalf("ListParticipantReplicas: %v", err)
		}
		pages++
		for _, r := range out.Replicas {
			dsts = append(dsts, aws.ToString(r.DestinationStageArn))
		}
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if diff := cmp.Diff(s[1:6], dsts); diff != "" {
		t.Errorf("paged destinations (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
}

func TestReplicationRequiresPublishing(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.stages(t, 2)
	err := h.startReplication(t, s[0], s[1], "host")
	wantAPIError[*types.ResourceNotFoundException](t, err, "not publishing")

	h.em.SetPublishing(s[0], "host", true)
	if id := h.activeSession(t, s[0]); id == "" {
		t.Error("a stage with a publisher has no activeSessionId")
	}
	if err := h.startReplication(t, s[0], s[1], "host"); err != nil {
		t.Fatalf("StartParticipantReplication while publishing: %v", err)
	}
	// With the default reconnect window of 0, unpublishing ends it at once.
	h.em.SetPublishing(s[0], "host", false)
	if got := h.replicas(t, s[0], "host"); len(got) != 0 {
		t.Errorf("replicas after unpublishing with no reconnect window = %d, want 0", len(got))
	}
	// Publishing in the destination does not count for the source.
	h.em.SetPublishing(s[1], "other", true)
	err = h.startReplication(t, s[0], s[1], "other")
	wantAPIError[*types.ResourceNotFoundException](t, err, "not publishing")

	// The HTTP extension route does the same as SetPublishing.
	body := `{"stageArn":"` + s[0] + `","participantId":"other","publishing":true}`
	if status, _, b := h.post(t, http.MethodPost, "/_emulator/publishing", body); status != http.StatusOK {
		t.Fatalf("POST /_emulator/publishing: %d %s", status, b)
	}
	if err := h.startReplication(t, s[0], s[1], "other"); err != nil {
		t.Fatalf("StartParticipantReplication after the extension route: %v", err)
	}
	bad := []struct {
		body   string
		status int
		errTyp string
	}{
		{`{"stageArn":"arn:aws:ivs:us-east-1:123456789012:stage/nope","participantId":"p","publishing":true}`, 404, "ResourceNotFoundException"},
		{`{"stageArn":"` + s[0] + `","participantId":"p"}`, 400, "ValidationException"},
		{`{"stageArn":"` + s[0] + `","participantId":"","publishing":true}`, 400, "ValidationException"},
		{`not json`, 400, "ValidationException"},
	}
	for _, tt := range bad {
		status, header, b := h.post(t, http.MethodPost, "/_emulator/publishing", tt.body)
		if status != tt.status || header.Get("X-Amzn-ErrorType") != tt.errTyp {
			t.Errorf("POST /_emulator/publishing %s = %d %s %s, want %d %s", tt.body, status, header.Get("X-Amzn-ErrorType"), b, tt.status, tt.errTyp)
		}
	}
}
