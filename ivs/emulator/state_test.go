package emulator

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/google/go-cmp/cmp"
)

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "ivs")
	path := filepath.Join(dir, "state.json")
	first := newHarness(t, Options{StatePath: path})

	st, err := first.client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{
		Name: aws.String("kept"), Tags: map[string]string{"env": "dev"},
		AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{
			StorageConfigurationArn: aws.String("arn:aws:ivs:us-east-1:123456789012:storage-configuration/s"),
		},
	})
	if err != nil {
		t.Fatalf("CreateStage: %v", err)
	}
	other := first.createStage(t, "other")
	key, err := first.client.ImportPublicKey(t.Context(), &ivsrealtime.ImportPublicKeyInput{
		PublicKeyMaterial: aws.String(newP384PEM(t)), Name: aws.String("k"), Tags: map[string]string{"t": "1"},
	})
	if err != nil {
		t.Fatalf("ImportPublicKey: %v", err)
	}
	first.em.SetPublishing(aws.ToString(st.Stage.Arn), "host", true)
	if _, err := first.client.StartParticipantReplication(t.Context(), &ivsrealtime.StartParticipantReplicationInput{
		SourceStageArn: st.Stage.Arn, DestinationStageArn: other.Arn, ParticipantId: aws.String("host"),
		ReconnectWindowSeconds: aws.Int32(60),
	}); err != nil {
		t.Fatalf("StartParticipantReplication: %v", err)
	}
	tok, err := first.client.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn})
	if err != nil {
		t.Fatalf("CreateParticipantToken: %v", err)
	}
	wantStage, err := first.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
	if err != nil {
		t.Fatalf("GetStage: %v", err)
	}
	wantReplicas := first.replicas(t, aws.ToString(st.Stage.Arn), "host")

	// The state is written on every mutation, before Close.
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("state file after mutations: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, want 0600", info.Mode().Perm())
	}
	if dirInfo, err := os.Stat(dir); err != nil || dirInfo.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode = %v (%v), want 0700", dirInfo.Mode().Perm(), err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left behind: %v", leftovers)
	}
	if err := first.em.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	second := newHarness(t, Options{StatePath: path})
	gotStage, err := second.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
	if err != nil {
		t.Fatalf("GetStage after restart: %v", err)
	}
	// A restart disconnects everyone: the host's session is over.
	if gotStage.Stage.ActiveSessionId != nil {
		t.Errorf("activeSessionId %q after a restart disconnected the only publisher", *gotStage.Stage.ActiveSessionId)
	}
	wantStage.Stage.ActiveSessionId = nil
	if diff := cmp.Diff(wantStage.Stage, gotStage.Stage, sdkCmp()); diff != "" {
		t.Errorf("stage after restart (-before +after):\n%s", diff)
	}
	gotKey, err := second.client.GetPublicKey(t.Context(), &ivsrealtime.GetPublicKeyInput{Arn: key.PublicKey.Arn})
	if err != nil {
		t.Fatalf("GetPublicKey after restart: %v", err)
	}
	if diff := cmp.Diff(key.PublicKey, gotKey.PublicKey, sdkCmp()); diff != "" {
		t.Errorf("public key after restart (-before +after):\n%s", diff)
	}
	// The replica is back in the destination, in a new session there, and
	// waits for its source for the reconnect window.
	gotReplicas := second.replicas(t, aws.ToString(st.Stage.Arn), "host")
	if len(gotReplicas) == 1 && len(wantReplicas) == 1 {
		if got, want := aws.ToString(gotReplicas[0].DestinationSessionId), second.activeSession(t, aws.ToString(other.Arn)); got != want || got == "" {
			t.Errorf("replica's destination session %q, want the destination's new session %q", got, want)
		}
		wantReplicas[0].DestinationSessionId = gotReplicas[0].DestinationSessionId
	}
	if diff := cmp.Diff(wantReplicas, gotReplicas, sdkCmp()); diff != "" {
		t.Errorf("replicas after restart (-before +after):\n%s", diff)
	}
	second.clock.Add(time.Minute)
	second.em.Sweep()
	if got := second.replicas(t, aws.ToString(st.Stage.Arn), "host"); len(got) != 0 {
		t.Errorf("replicas %v after the reconnect window passed without the source", got)
	}
	if !second.em.PublicKey().Equal(first.em.PublicKey()) {
		t.Fatal("signing key changed across restart")
	}
	parseToken(t, second, aws.ToString(tok.ParticipantToken.Token), second.em.PublicKey())

	// Creation order (and so pagination) continues after the restart.
	third := second.createStage(t, "third")
	list, err := second.client.ListStages(t.Context(), &ivsrealtime.ListStagesInput{})
	if err != nil {
		t.Fatalf("ListStages: %v", err)
	}
	var arns []string
	for _, s := range list.Stages {
		arns = append(arns, aws.ToString(s.Arn))
	}
	if diff := cmp.Diff([]string{aws.ToString(st.Stage.Arn), aws.ToString(other.Arn), aws.ToString(third.Arn)}, arns); diff != "" {
		t.Errorf("stage order after restart (-want +got):\n%s", diff)
	}
}

func TestMemoryOnlyHasNoFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	h := newHarness(t, Options{})
	h.createStage(t, "mem")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	if len(entries) != 0 {
		t.Errorf("memory-only emulator wrote %v", entries)
	}
}

func TestNewRejectsBadState(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]string{
		"not JSON":      "{",
		"wrong version": `{"version":99}`,
		"bad key":       `{"version":1,"signingKey":"nope"}`,
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := New(Options{StatePath: path}); err == nil {
				t.Errorf("New with %s state succeeded, want an error", name)
			}
		})
	}
}
