package emulator

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
)

// token mints a participant token through the SDK.
func (h *harness) token(t *testing.T, stageArn, userID string, caps ...types.ParticipantTokenCapability) (pid, token string) {
	t.Helper()
	in := &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(stageArn), Capabilities: caps,
		Attributes: map[string]string{"role": "test"}}
	if userID != "" {
		in.UserId = aws.String(userID)
	}
	out, err := h.client.CreateParticipantToken(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateParticipantToken: %v", err)
	}
	return aws.ToString(out.ParticipantToken.ParticipantId), aws.ToString(out.ParticipantToken.Token)
}

func (h *harness) whipURL(st *types.Stage) string {
	_, id, _ := strings.Cut(aws.ToString(st.Arn), ":stage/")
	return h.srv.URL + "/whip/" + id
}

// publish connects a synthetic publisher and fails the test unless it was
// accepted; it is closed at cleanup.
func (h *harness) publish(t *testing.T, st *types.Stage, token string, opts whiptest.PublishOptions) *whiptest.Publisher {
	t.Helper()
	pub, err := whiptest.NewPublisher(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	resp, err := pub.Connect(t.Context(), h.srv.Client(), h.whipURL(st), token)
	if err != nil || resp.Status != 201 {
		t.Fatalf("WHIP publish: %v %+v", err, resp)
	}
	return pub
}

// subscribe connects a subscriber to publisher pid of a stage.
func (h *harness) subscribe(t *testing.T, st *types.Stage, pid, token string) *whiptest.Subscriber {
	t.Helper()
	sub, err := whiptest.NewSubscriber(whiptest.Codecs{}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	resp, err := sub.Connect(t.Context(), h.srv.Client(), h.whipURL(st)+"/subscribe/"+pid, token)
	if err != nil || resp.Status != 201 {
		t.Fatalf("subscribe: %v %+v", err, resp)
	}
	return sub
}

// waitPublishing polls GetParticipant until pid has published in the
// stage's active session, and returns that session.
func (h *harness) waitPublishing(t *testing.T, stageArn, pid string) string {
	t.Helper()
	var session string
	testenv.Eventually(t, 5*time.Second, pid+" publishing", func() bool {
		session = h.activeSession(t, stageArn)
		if session == "" {
			return false
		}
		p, err := h.client.GetParticipant(t.Context(), &ivsrealtime.GetParticipantInput{
			StageArn: aws.String(stageArn), SessionId: aws.String(session), ParticipantId: aws.String(pid)})
		return err == nil && p.Participant.Published && p.Participant.State == types.ParticipantStateConnected
	})
	return session
}

func (h *harness) participant(t *testing.T, stageArn, session, pid string) *types.Participant {
	t.Helper()
	out, err := h.client.GetParticipant(t.Context(), &ivsrealtime.GetParticipantInput{
		StageArn: aws.String(stageArn), SessionId: aws.String(session), ParticipantId: aws.String(pid)})
	if err != nil {
		t.Fatalf("GetParticipant %s: %v", pid, err)
	}
	return out.Participant
}

// events lists a participant's events through the SDK.
func (h *harness) events(t *testing.T, stageArn, session, pid string) []types.Event {
	t.Helper()
	out, err := h.client.ListParticipantEvents(t.Context(), &ivsrealtime.ListParticipantEventsInput{
		StageArn: aws.String(stageArn), SessionId: aws.String(session), ParticipantId: aws.String(pid)})
	if err != nil {
		t.Fatalf("ListParticipantEvents %s: %v", pid, err)
	}
	return out.Events
}

// eventNames returns "NAME" or "NAME:ERROR_CODE" for each event.
func eventNames(events []types.Event) []string {
	out := make([]string, 0, len(events))
	for _, ev := range events {
		name := string(ev.Name)
		if ev.ErrorCode != "" {
			name += ":" + string(ev.ErrorCode)
		}
		out = append(out, name)
	}
	return out
}

// eventLog collects the EventBridge events an emulator emits.
type eventLog struct {
	mu     sync.Mutex
	events []EventBridgeEvent
}

func (h *harness) eventLog(t *testing.T) *eventLog {
	t.Helper()
	l := &eventLog{}
	t.Cleanup(h.em.SubscribeEvents(func(ev EventBridgeEvent) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.events = append(l.events, ev)
	}))
	return l
}

// wait returns the first event named name about participant pid, polling
// until it was delivered.
func (l *eventLog) wait(t *testing.T, name, pid string) EventBridgeEvent {
	t.Helper()
	var found EventBridgeEvent
	testenv.Eventually(t, 5*time.Second, "EventBridge "+name+" for "+pid, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		i := slices.IndexFunc(l.events, func(ev EventBridgeEvent) bool {
			return ev.Detail.EventName == name && ev.Detail.ParticipantID == pid
		})
		if i >= 0 {
			found = l.events[i]
		}
		return i >= 0
	})
	return found
}

// names returns the event names delivered about pid so far, in order.
func (l *eventLog) names(pid string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, ev := range l.events {
		if ev.Detail.ParticipantID == pid {
			out = append(out, ev.Detail.EventName)
		}
	}
	return out
}
