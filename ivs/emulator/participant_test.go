package emulator

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive/internal/whiptest"
)

// refusedJoin makes a DISCONNECTED participant with a userId: a
// subscribe-only token trying to publish.
func (h *harness) refusedJoin(t *testing.T, st *types.Stage, userID string) string {
	t.Helper()
	pid, token := h.token(t, aws.ToString(st.Arn), userID, subscribeOnly...)
	resp, err := whiptest.Post(t.Context(), h.srv.Client(), h.whipURL(st), token, offerFor(t, whiptest.PublishOptions{}))
	if err != nil || resp.Status != http.StatusForbidden {
		t.Fatalf("refused join: %v %+v", err, resp)
	}
	return pid
}

func TestListParticipantsFiltersAndPages(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "crowd")
	arn := aws.ToString(st.Arn)
	h.em.SetPublishing(arn, "pub-1", true)
	alice1 := h.refusedJoin(t, st, "alice")
	h.em.SetPublishing(arn, "pub-2", true)
	alice2 := h.refusedJoin(t, st, "alice")
	bob := h.refusedJoin(t, st, "bob")
	session := h.activeSession(t, arn)

	list := func(in ivsrealtime.ListParticipantsInput) []string {
		t.Helper()
		in.StageArn, in.SessionId = st.Arn, aws.String(session)
		var ids []string
		for {
			out, err := h.client.ListParticipants(t.Context(), &in)
			if err != nil {
				t.Fatalf("ListParticipants: %v", err)
			}
			for _, p := range out.Participants {
				ids = append(ids, aws.ToString(p.ParticipantId))
			}
			if out.NextToken == nil {
				return ids
			}
			in.NextToken = out.NextToken
		}
	}
	tests := []struct {
		name string
		in   ivsrealtime.ListParticipantsInput
		want []string
	}{
		{"all, two at a time", ivsrealtime.ListParticipantsInput{MaxResults: aws.Int32(2)}, []string{"pub-1", alice1, "pub-2", alice2, bob}},
		{"by user", ivsrealtime.ListParticipantsInput{FilterByUserId: aws.String("alice")}, []string{alice1, alice2}},
		{"published", ivsrealtime.ListParticipantsInput{FilterByPublished: true}, []string{"pub-1", "pub-2"}},
		{"connected", ivsrealtime.ListParticipantsInput{FilterByState: types.ParticipantStateConnected}, []string{"pub-1", "pub-2"}},
		{"disconnected", ivsrealtime.ListParticipantsInput{FilterByState: types.ParticipantStateDisconnected}, []string{alice1, alice2, bob}},
		{"recording (never)", ivsrealtime.ListParticipantsInput{FilterByRecordingState: types.ParticipantRecordingFilterByRecordingStateActive}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, list(tt.in)); diff != "" {
				t.Errorf("participants (-want +got):\n%s", diff)
			}
		})
	}
	// An unknown session has no participants (the model has no 404 here).
	out, err := h.client.ListParticipants(t.Context(), &ivsrealtime.ListParticipantsInput{StageArn: st.Arn, SessionId: aws.String("st-AAAAAAAAAAAAA")})
	if err != nil || len(out.Participants) != 0 {
		t.Errorf("unknown session: %+v, %v", out, err)
	}
}

func TestParticipantAPIValidation(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "v")
	arn := aws.ToString(st.Arn)
	h.em.SetPublishing(arn, "p", true)
	session := h.activeSession(t, arn)
	missing := "arn:aws:ivs:us-east-1:123456789012:stage/missing"
	ctx := t.Context()
	c := h.client
	tests := []struct {
		name     string
		call     func() error
		notFound bool // else ValidationException
		fragment string
	}{
		{"session id too short", func() error {
			_, err := c.GetStageSession(ctx, &ivsrealtime.GetStageSessionInput{StageArn: st.Arn, SessionId: aws.String("st-1")})
			return err
		}, false, "'sessionId'"},
		{"session id pattern", func() error {
			_, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: st.Arn, SessionId: aws.String("xx-AAAAAAAAAAAAA"), ParticipantId: aws.String("p")})
			return err
		}, false, "'sessionId'"},
		{"participant id with underscore", func() error {
			_, err := c.ListParticipantEvents(ctx, &ivsrealtime.ListParticipantEventsInput{StageArn: st.Arn, SessionId: aws.String(session), ParticipantId: aws.String("a_b")})
			return err
		}, false, "'participantId'"},
		{"stage arn", func() error {
			_, err := c.ListStageSessions(ctx, &ivsrealtime.ListStageSessionsInput{StageArn: aws.String("stage")})
			return err
		}, false, "'stageArn'"},
		{"maxResults 101", func() error {
			_, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: st.Arn, SessionId: aws.String(session), MaxResults: aws.Int32(101)})
			return err
		}, false, "'maxResults'"},
		{"maxResults 0", func() error {
			_, err := c.ListStageSessions(ctx, &ivsrealtime.ListStageSessionsInput{StageArn: st.Arn, MaxResults: aws.Int32(0)})
			return err
		}, false, "'maxResults'"},
		{"filterByState enum", func() error {
			_, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: st.Arn, SessionId: aws.String(session), FilterByState: "GONE"})
			return err
		}, false, "'filterByState'"},
		{"two filters", func() error {
			_, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: st.Arn, SessionId: aws.String(session),
				FilterByPublished: true, FilterByState: types.ParticipantStateConnected})
			return err
		}, false, "Only one of"},
		{"userId too long", func() error {
			_, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: st.Arn, SessionId: aws.String(session), FilterByUserId: aws.String(longString(129))})
			return err
		}, false, "'filterByUserId'"},
		{"nextToken of another list", func() error {
			_, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: st.Arn, SessionId: aws.String(session), NextToken: aws.String(encodePageToken("stages", 1))})
			return err
		}, false, "nextToken"},
		{"unknown stage", func() error {
			_, err := c.GetStageSession(ctx, &ivsrealtime.GetStageSessionInput{StageArn: aws.String(missing), SessionId: aws.String(session)})
			return err
		}, true, missing},
		{"unknown session", func() error {
			_, err := c.GetStageSession(ctx, &ivsrealtime.GetStageSessionInput{StageArn: st.Arn, SessionId: aws.String("st-AAAAAAAAAAAAA")})
			return err
		}, true, "st-AAAAAAAAAAAAA"},
		{"unknown participant", func() error {
			_, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: st.Arn, SessionId: aws.String(session), ParticipantId: aws.String("nobody")})
			return err
		}, true, "nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.notFound {
				wantAPIError[*types.ResourceNotFoundException](t, err, tt.fragment)
			} else {
				wantAPIError[*types.ValidationException](t, err, tt.fragment)
			}
		})
	}
}

// Sessions start at the first join and end SessionEndDelay after the last
// leave; the stage keeps the history, events page like the rest.
func TestStageSessionsAndEventPages(t *testing.T) {
	h := newHarness(t, Options{SessionEndDelay: time.Minute})
	st := h.createStage(t, "s")
	arn := aws.ToString(st.Arn)
	start := h.clock.Now().Truncate(time.Millisecond)
	h.em.SetPublishing(arn, "p", true)
	first := h.activeSession(t, arn)
	for range 3 { // JOINED, PUBLISH_STARTED, PUBLISH_STOPPED, LEFT each time
		h.em.SetPublishing(arn, "p", false)
		h.em.SetPublishing(arn, "p", true)
	}
	h.em.SetPublishing(arn, "p", false)
	var names []string
	var token *string
	pages := 0
	for {
		out, err := h.client.ListParticipantEvents(t.Context(), &ivsrealtime.ListParticipantEventsInput{StageArn: st.Arn,
			SessionId: aws.String(first), ParticipantId: aws.String("p"), MaxResults: aws.Int32(5), NextToken: token})
		if err != nil {
			t.Fatalf("ListParticipantEvents: %v", err)
		}
		pages++
		names = append(names, eventNames(out.Events)...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(names) != 16 || pages != 4 || names[0] != "JOINED" || names[15] != "LEFT" {
		t.Errorf("%d events in %d pages: %v, want 16 in 4 pages from JOINED to LEFT", len(names), pages, names)
	}

	h.clock.Add(time.Minute)
	h.em.Sweep()
	end := h.clock.Now().Truncate(time.Millisecond)
	h.clock.Add(time.Hour)
	h.em.SetPublishing(arn, "p", true)
	second := h.activeSession(t, arn)
	if second == "" || second == first {
		t.Fatalf("second session %q, first %q", second, first)
	}
	out, err := h.client.ListStageSessions(t.Context(), &ivsrealtime.ListStageSessionsInput{StageArn: st.Arn})
	if err != nil {
		t.Fatalf("ListStageSessions: %v", err)
	}
	want := []types.StageSessionSummary{
		{SessionId: aws.String(first), StartTime: &start, EndTime: &end},
		{SessionId: aws.String(second), StartTime: aws.Time(h.clock.Now().Truncate(time.Millisecond))},
	}
	if diff := cmp.Diff(want, out.StageSessions, sdkCmp()); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}
	// Participants belong to their session.
	if p := h.participant(t, arn, second, "p"); p.State != types.ParticipantStateConnected {
		t.Errorf("p in the second session: %s", p.State)
	}
	if p := h.participant(t, arn, first, "p"); p.State != types.ParticipantStateDisconnected {
		t.Errorf("p in the first session: %s", p.State)
	}
}
