package emulator

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/ivslive/ivslive/internal/testenv"
)

// newSQSClient returns the real SQS SDK client for the emulator's event
// queue at url, without retries.
func newSQSClient(url string) *sqs.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(url + "/sqs")
		o.RetryMaxAttempts = 1
	})
}

// queueHarness is a harness with an SQS client and the queue's URL.
type queueHarness struct {
	*harness
	sqs *sqs.Client
	url string
}

func newQueueHarness(t *testing.T, opts Options) *queueHarness {
	t.Helper()
	h := newHarness(t, opts)
	c := newSQSClient(h.srv.URL)
	out, err := c.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String(EventQueueName)})
	if err != nil {
		t.Fatalf("GetQueueUrl: %v", err)
	}
	return &queueHarness{harness: h, sqs: c, url: aws.ToString(out.QueueUrl)}
}

// receive calls ReceiveMessage without waiting, asking for every attribute.
func (q *queueHarness) receive(t *testing.T, max, visibility int32) []sqstypes.Message {
	t.Helper()
	out, err := q.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: max,
		VisibilityTimeout: visibility, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

// eventOf decodes a message body as an EventBridge event.
func eventOf(t *testing.T, m sqstypes.Message) EventBridgeEvent {
	t.Helper()
	var ev EventBridgeEvent
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
		t.Fatalf("body %q: %v", aws.ToString(m.Body), err)
	}
	return ev
}

// The events reach the queue as EventBridge delivers them to an SQS target,
// and the real SDK receives (checking each body's MD5) and deletes them.
func TestEventQueueDeliversEvents(t *testing.T) {
	q := newQueueHarness(t, Options{AccountID: "111122223333"})
	if want := "http://localhost:3000/ivs/sqs/111122223333/ivslive-events"; q.url != want {
		t.Errorf("QueueUrl = %s, want %s", q.url, want)
	}
	arn := aws.ToString(q.createStage(t, "sqs").Arn)
	q.em.SetPublishing(arn, "p1", true)
	q.em.SetPublishing(arn, "p1", false)

	msgs := q.receive(t, 10, 30)
	if len(msgs) != 2 {
		t.Fatalf("received %d messages, want 2", len(msgs))
	}
	for i, want := range []string{"Participant Published", "Participant Unpublished"} {
		ev := eventOf(t, msgs[i])
		if ev.Source != "aws.ivs" || ev.DetailType != "IVS Stage Update" || ev.Detail.EventName != want || ev.Detail.ParticipantID != "p1" || ev.Resources[0] != arn {
			t.Errorf("message %d = %+v, want %s of p1 on %s", i, ev, want, arn)
		}
		if got := msgs[i].Attributes["ApproximateReceiveCount"]; got != "1" {
			t.Errorf("ApproximateReceiveCount = %q, want 1", got)
		}
	}
	if got := q.receive(t, 10, 30); len(got) != 0 {
		t.Errorf("in-flight messages were received again: %d", len(got))
	}
	out, err := q.sqs.DeleteMessageBatch(t.Context(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.url), Entries: []sqstypes.DeleteMessageBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: msgs[0].ReceiptHandle}, {Id: aws.String("bad"), ReceiptHandle: aws.String("not-a-handle")}}})
	if err != nil {
		t.Fatalf("DeleteMessageBatch: %v", err)
	}
	if len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "a" || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Errorf("DeleteMessageBatch = %+v, want a deleted and bad failed", out)
	}
	if _, err := q.sqs.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: msgs[1].ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	q.clock.Add(time.Minute)
	if got := q.receive(t, 10, 30); len(got) != 0 {
		t.Errorf("deleted messages came back: %d", len(got))
	}
	if st := q.em.EventQueueStats(); st.Sent != 2 || st.Deleted != 2 || st.Queued != 0 {
		t.Errorf("stats = %+v, want 2 sent and deleted, none queued", st)
	}
}

// A message not deleted comes back after its visibility timeout with a new
// receipt handle; only the latest handle deletes it (an earlier one
// succeeds without deleting, as in SQS); ChangeMessageVisibility 0 makes it
// visible at once.
func TestEventQueueRedelivers(t *testing.T) {
	q := newQueueHarness(t, Options{})
	arn := aws.ToString(q.createStage(t, "again").Arn)
	q.em.SetPublishing(arn, "p1", true)
	first := q.receive(t, 1, 5)
	if len(first) != 1 {
		t.Fatalf("received %d, want 1", len(first))
	}
	q.clock.Add(4 * time.Second)
	if got := q.receive(t, 1, 5); len(got) != 0 {
		t.Fatalf("received before the visibility timeout")
	}
	q.clock.Add(time.Second)
	second := q.receive(t, 1, 5)
	if len(second) != 1 || aws.ToString(second[0].MessageId) != aws.ToString(first[0].MessageId) {
		t.Fatalf("redelivery = %+v, want message %s", second, aws.ToString(first[0].MessageId))
	}
	if aws.ToString(second[0].ReceiptHandle) == aws.ToString(first[0].ReceiptHandle) {
		t.Error("the redelivery has the same receipt handle")
	}
	if got := second[0].Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Errorf("ApproximateReceiveCount = %q, want 2", got)
	}
	// The stale handle: no error, no delete.
	if _, err := q.sqs.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage with the earlier handle: %v", err)
	}
	if _, err := q.sqs.ChangeMessageVisibility(t.Context(), &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.url),
		ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}
	third := q.receive(t, 1, 5)
	if len(third) != 1 {
		t.Fatal("the message was deleted with an earlier receipt handle, or is not visible after ChangeMessageVisibility 0")
	}
	_, err := q.sqs.ChangeMessageVisibility(t.Context(), &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.url),
		ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: 0})
	var notInflight *sqstypes.MessageNotInflight
	if !errors.As(err, &notInflight) {
		t.Errorf("ChangeMessageVisibility with a stale handle = %v, want MessageNotInflight", err)
	}
	if _, err := q.sqs.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: third[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	q.clock.Add(time.Minute)
	if got := q.receive(t, 1, 5); len(got) != 0 {
		t.Error("deleted with its latest handle, the message came back")
	}
}

// A long poll waits for a message and answers as soon as one arrives; the
// emulator's Close ends it.
func TestEventQueueLongPoll(t *testing.T) {
	q := newQueueHarness(t, Options{})
	arn := aws.ToString(q.createStage(t, "poll").Arn)
	type result struct {
		out *sqs.ReceiveMessageOutput
		err error
	}
	poll := func() chan result {
		done := make(chan result, 1)
		go func() {
			out, err := q.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 20})
			done <- result{out, err}
		}()
		testenv.Eventually(t, 5*time.Second, "a waiting long poll", func() bool {
			q.em.queue.mu.Lock()
			defer q.em.queue.mu.Unlock()
			return q.em.queue.polls == 1
		})
		return done
	}
	done := poll()
	q.em.SetPublishing(arn, "p1", true)
	select {
	case r := <-done:
		if r.err != nil || len(r.out.Messages) != 1 || eventOf(t, r.out.Messages[0]).Detail.EventName != "Participant Published" {
			t.Fatalf("long poll = %+v, %v; want the Published event", r.out, r.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the long poll did not answer when the event arrived")
	}
	done = poll()
	q.em.Close()
	// The control plane answers after Close; what is sent then is lost.
	if _, err := q.sqs.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String("late")}); err != nil {
		t.Errorf("SendMessage after Close: %v", err)
	}
	select {
	case r := <-done:
		if r.err != nil || len(r.out.Messages) != 0 {
			t.Errorf("long poll at Close = %+v, %v; want no message", r.out, r.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Close did not end the long poll")
	}
}

// DropEvents loses the next events before the queue: no consumer sees them.
// A full queue drops its oldest message.
func TestEventQueueDropsEvents(t *testing.T) {
	q := newQueueHarness(t, Options{EventQueueSize: 3})
	arn := aws.ToString(q.createStage(t, "lossy").Arn)
	q.em.DropEvents(2)
	for _, p := range []string{"lost1", "lost2", "kept1", "kept2", "kept3", "kept4"} {
		q.em.SetPublishing(arn, p, true)
	}
	var got []string
	for _, m := range q.receive(t, 10, 30) {
		got = append(got, eventOf(t, m).Detail.ParticipantID)
	}
	if want := []string{"kept2", "kept3", "kept4"}; !equalStrings(got, want) {
		t.Errorf("received %v, want %v (two dropped on purpose, the oldest dropped by the bound)", got, want)
	}
	if st := q.em.EventQueueStats(); st.Dropped != 2 || st.Overflowed != 1 || st.Sent != 4 || st.Queued != 3 || st.InFlight != 3 {
		t.Errorf("stats = %+v, want 2 dropped, 1 overflowed, 4 sent, 3 queued and in flight", st)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Errors come in SQS's JSON shape, which the SDK turns into typed errors.
func TestEventQueueErrors(t *testing.T) {
	q := newQueueHarness(t, Options{})
	ctx := t.Context()
	var noQueue *sqstypes.QueueDoesNotExist
	if _, err := q.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("other")}); !errors.As(err, &noQueue) {
		t.Errorf("GetQueueUrl other = %v, want QueueDoesNotExist", err)
	}
	if _, err := q.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.srv.URL + "/sqs/123456789012/other")}); !errors.As(err, &noQueue) {
		t.Errorf("ReceiveMessage on another queue = %v, want QueueDoesNotExist", err)
	}
	for name, in := range map[string]*sqs.ReceiveMessageInput{
		"MaxNumberOfMessages": {QueueUrl: aws.String(q.url), MaxNumberOfMessages: 11},
		"WaitTimeSeconds":     {QueueUrl: aws.String(q.url), WaitTimeSeconds: 21},
		"VisibilityTimeout":   {QueueUrl: aws.String(q.url), VisibilityTimeout: -1},
	} {
		_, err := q.sqs.ReceiveMessage(ctx, in)
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidParameterValue" {
			t.Errorf("%s out of range: %v, want InvalidParameterValue", name, err)
		}
	}
	// Seconds that would overflow a time.Duration into range are refused.
	req := httptest.NewRequest("POST", "/sqs", strings.NewReader(`{"QueueUrl":"`+q.url+`","WaitTimeSeconds":18446744074}`))
	req.Header.Set("X-Amz-Target", "AmazonSQS.ReceiveMessage")
	w := httptest.NewRecorder()
	q.em.ServeHTTP(w, req)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "InvalidParameterValue") || w.Header().Get("x-amzn-query-error") != "InvalidParameterValue;Sender" {
		t.Errorf("an overflowing WaitTimeSeconds: %d %s, want InvalidParameterValue", w.Code, w.Body)
	}
	var invalid *sqstypes.ReceiptHandleIsInvalid
	if _, err := q.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String("garbage")}); !errors.As(err, &invalid) {
		t.Errorf("DeleteMessage garbage = %v, want ReceiptHandleIsInvalid", err)
	}
	var empty *sqstypes.EmptyBatchRequest
	if _, err := q.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.url), Entries: []sqstypes.DeleteMessageBatchRequestEntry{}}); !errors.As(err, &empty) {
		t.Errorf("DeleteMessageBatch empty = %v, want EmptyBatchRequest", err)
	}
	q.em.InjectError("ReceiveMessage", "RequestThrottled", 403, 1)
	var throttled *sqstypes.RequestThrottled
	if _, err := q.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url)}); !errors.As(err, &throttled) {
		t.Errorf("injected ReceiveMessage fault = %v, want RequestThrottled", err)
	}
	// SendMessage puts any body in the queue, as another producer could.
	out, err := q.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String("not json")})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	msgs := q.receive(t, 1, 30)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "not json" || aws.ToString(msgs[0].MessageId) != aws.ToString(out.MessageId) {
		t.Errorf("received %+v, want the message sent", msgs)
	}
}
