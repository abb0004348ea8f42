package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The event queue speaks Amazon SQS's JSON protocol (awsJson1_0): POST
// with X-Amz-Target: AmazonSQS.<Operation> and an application/x-amz-json-1.0
// body, answered with the operation's output members, or with an error
// whose body is {"__type":"com.amazonaws.sqs#<Error>","message":...} and
// whose x-amzn-query-error header carries the query-compatible code, which
// aws-sdk-go-v2/service/sqs turns into its typed errors. It is served at
// /sqs (any path under it), so the SDK's BaseEndpoint is {emulator}/sqs and
// the queue URL {emulator}/sqs/{account}/ivslive-events.

// sqsPrefix is the path the SQS endpoint is served at.
const sqsPrefix = "/sqs"

// sqsOperation handles one decoded SQS request body.
type sqsOperation func(r *http.Request, body []byte) (any, error)

func (e *Emulator) sqsOperations() map[string]sqsOperation {
	return map[string]sqsOperation{
		"GetQueueUrl":             e.sqsGetQueueURL,
		"ReceiveMessage":          e.sqsReceiveMessage,
		"DeleteMessage":           e.sqsDeleteMessage,
		"DeleteMessageBatch":      e.sqsDeleteMessageBatch,
		"ChangeMessageVisibility": e.sqsChangeMessageVisibility,
		"SendMessage":             e.sqsSendMessage,
	}
}

// isSQS reports whether r is for the SQS endpoint.
func isSQS(r *http.Request) bool {
	return r.URL.Path == sqsPrefix || strings.HasPrefix(r.URL.Path, sqsPrefix+"/")
}

// serveSQS answers one SQS request. Injected faults (InjectError with the
// SQS operation name) answer with their error type as the SQS error.
func (e *Emulator) serveSQS(w http.ResponseWriter, r *http.Request, reqID string) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	out, err := e.sqsCall(w, r, op)
	if err == nil {
		writeSQS(w, http.StatusOK, out)
		e.log.Debug("ivs emulator sqs request", "op", op, "requestId", reqID)
		return
	}
	var se *sqsError
	if !errors.As(err, &se) {
		se = &sqsError{Type: "InternalError", QueryCode: "InternalError", Status: http.StatusInternalServerError, Message: err.Error()}
	}
	w.Header().Set("x-amzn-query-error", se.QueryCode+";"+map[bool]string{true: "Receiver", false: "Sender"}[se.Status >= 500])
	writeSQS(w, se.Status, map[string]string{"__type": "com.amazonaws.sqs#" + se.Type, "message": se.Message})
	level := slog.LevelDebug
	if se.Status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	e.log.Log(r.Context(), level, "ivs emulator sqs request failed", "op", op, "status", se.Status, "requestId", reqID, "err", err)
}

func (e *Emulator) sqsCall(w http.ResponseWriter, r *http.Request, op string) (any, error) {
	if r.Method != http.MethodPost {
		return nil, &sqsError{Type: "UnsupportedOperation", QueryCode: "AWS.SimpleQueueService.UnsupportedOperation", Status: http.StatusBadRequest,
			Message: "the SQS JSON protocol takes POST requests"}
	}
	handler, ok := e.sqsOps[op]
	if !ok {
		return nil, &sqsError{Type: "UnsupportedOperation", QueryCode: "AWS.SimpleQueueService.UnsupportedOperation", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("the emulator's event queue does not support %q", r.Header.Get("X-Amz-Target"))}
	}
	if f := e.takeFault(op); f != nil {
		return nil, &sqsError{Type: f.Type, QueryCode: f.Type, Status: f.Status, Message: f.Message}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMessageBytes+64<<10))
	if err != nil {
		return nil, invalidParameter("read the request: %v", err)
	}
	return handler(r, body)
}

// writeSQS writes v as an awsJson1_0 body.
func writeSQS(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"com.amazonaws.sqs#InternalError","message":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeSQS decodes an SQS request body. Unknown members are ignored, as
// newer SDKs may send members this emulator does not model.
func decodeSQS(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &sqsError{Type: "SerializationException", QueryCode: "SerializationException", Status: http.StatusBadRequest,
			Message: "the request body is not valid JSON for this operation: " + err.Error()}
	}
	return nil
}

// checkQueueURL checks that a QueueUrl names the event queue: its last two
// path segments are this account and the queue's name (its host is not
// checked: the emulator is reached at several addresses).
func (e *Emulator) checkQueueURL(raw string) error {
	if raw == "" {
		return missingParameter("QueueUrl")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return queueNotFound("The specified queue does not exist.")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || parts[len(parts)-2] != e.opts.AccountID || parts[len(parts)-1] != EventQueueName {
		return queueNotFound("The specified queue does not exist.")
	}
	return nil
}

// QueueURL returns the event queue's URL under the emulator's BaseURL.
func (e *Emulator) QueueURL() string {
	return e.base.String() + sqsPrefix + "/" + e.opts.AccountID + "/" + EventQueueName
}

func (e *Emulator) sqsGetQueueURL(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueName              string
		QueueOwnerAWSAccountId string
	}
	if err := decodeSQS(body, &in); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, missingParameter("QueueName")
	}
	if in.QueueName != EventQueueName || (in.QueueOwnerAWSAccountId != "" && in.QueueOwnerAWSAccountId != e.opts.AccountID) {
		return nil, queueNotFound("The specified queue does not exist.")
	}
	return map[string]string{"QueueUrl": e.QueueURL()}, nil
}

// sqsMessage is a message as ReceiveMessage answers it.
type sqsMessage struct {
	MessageId     string
	ReceiptHandle string
	MD5OfBody     string
	Body          string
	Attributes    map[string]string `json:",omitempty"`
}

func (e *Emulator) sqsReceiveMessage(r *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl                    string
		MaxNumberOfMessages         *int
		WaitTimeSeconds             *int
		VisibilityTimeout           *int
		AttributeNames              []string
		MessageSystemAttributeNames []string
	}
	if err := decodeSQS(body, &in); err != nil {
		return nil, err
	}
	if err := e.checkQueueURL(in.QueueUrl); err != nil {
		return nil, err
	}
	max, wait, visibility := 1, time.Duration(0), defaultVisibilityTimeout
	if in.MaxNumberOfMessages != nil {
		if max = *in.MaxNumberOfMessages; max < 1 || max > 10 {
			return nil, invalidParameter("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
		}
	}
	if in.WaitTimeSeconds != nil {
		if !secondsIn(*in.WaitTimeSeconds, maxWaitTime) {
			return nil, invalidParameter("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *in.WaitTimeSeconds)
		}
		wait = time.Duration(*in.WaitTimeSeconds) * time.Second
	}
	if in.VisibilityTimeout != nil {
		if !secondsIn(*in.VisibilityTimeout, maxVisibilityTimeout) {
			return nil, invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", *in.VisibilityTimeout)
		}
		visibility = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	want := attributeSet(append(in.AttributeNames, in.MessageSystemAttributeNames...))
	got := e.queue.receive(r.Context(), max, visibility, wait)
	out := make([]sqsMessage, 0, len(got))
	for _, m := range got {
		out = append(out, sqsMessage{MessageId: m.id, ReceiptHandle: m.receipt, MD5OfBody: m.md5, Body: m.body, Attributes: m.attributes(want, e.opts.AccountID)})
	}
	if len(out) == 0 {
		return struct{}{}, nil // SQS leaves Messages out when there are none
	}
	return map[string]any{"Messages": out}, nil
}

// secondsIn reports whether n seconds is within 0 and limit, checked
// before converting, which could overflow.
func secondsIn(n int, limit time.Duration) bool {
	return n >= 0 && n <= int(limit/time.Second)
}

// attributeSet is the requested system attributes; "All" asks for every one.
func attributeSet(names []string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}

// attributes returns the system attributes asked for.
func (m queuedMessage) attributes(want map[string]bool, account string) map[string]string {
	all := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.receives),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"SenderId":                         account,
	}
	if want["All"] {
		return all
	}
	out := make(map[string]string)
	for k, v := range all {
		if want[k] {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (e *Emulator) sqsDeleteMessage(_ *http.Request, body []byte) (any, error) {
	var in struct{ QueueUrl, ReceiptHandle string }
	if err := decodeSQS(body, &in); err != nil {
		return nil, err
	}
	if err := e.checkQueueURL(in.QueueUrl); err != nil {
		return nil, err
	}
	if in.ReceiptHandle == "" {
		return nil, missingParameter("ReceiptHandle")
	}
	if err := e.queue.deleteMessage(in.ReceiptHandle); err != nil {
		return nil, errReceiptInvalid
	}
	return struct{}{}, nil
}

// batchFailure is one failed entry of a batch call.
type batchFailure struct {
	Id          string
	Code        string
	Message     string
	SenderFault bool
}

func (e *Emulator) sqsDeleteMessageBatch(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl string
		Entries  []struct{ Id, ReceiptHandle string }
	}
	if err := decodeSQS(body, &in); err != nil {
		return nil, err
	}
	if err := e.checkQueueURL(in.QueueUrl); err != nil {
		return nil, err
	}
	switch {
	case len(in.Entries) == 0:
		return nil, errEmptyBatch
	case len(in.Entries) > 10:
		return nil, errTooManyEntries
	}
	seen := make(map[string]bool, len(in.Entries))
	for _, en := range in.Entries {
		if seen[en.Id] {
			return nil, errEntryIDsNotDistinct
		}
		seen[en.Id] = true
	}
	type success struct{ Id string }
	out := struct {
		Successful []success
		Failed     []batchFailure
	}{Successful: []success{}, Failed: []batchFailure{}}
	for _, en := range in.Entries {
		if err := e.queue.deleteMessage(en.ReceiptHandle); err != nil {
			out.Failed = append(out.Failed, batchFailure{Id: en.Id, Code: "ReceiptHandleIsInvalid", Message: errReceiptInvalid.Message, SenderFault: true})
			continue
		}
		out.Successful = append(out.Successful, success{Id: en.Id})
	}
	return out, nil
}

func (e *Emulator) sqsChangeMessageVisibility(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl, ReceiptHandle string
		VisibilityTimeout       *int
	}
	if err := decodeSQS(body, &in); err != nil {
		return nil, err
	}
	if err := e.checkQueueURL(in.QueueUrl); err != nil {
		return nil, err
	}
	if in.ReceiptHandle == "" {
		return nil, missingParameter("ReceiptHandle")
	}
	if in.VisibilityTimeout == nil {
		return nil, missingParameter("VisibilityTimeout")
	}
	if !secondsIn(*in.VisibilityTimeout, maxVisibilityTimeout) {
		return nil, invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200.", *in.VisibilityTimeout)
	}
	visibility := time.Duration(*in.VisibilityTimeout) * time.Second
	switch err := e.queue.changeVisibility(in.ReceiptHandle, visibility); err.(type) {
	case nil:
		return struct{}{}, nil
	case errNotInflight:
		return nil, errMessageNotInflight
	default:
		return nil, errReceiptInvalid
	}
}

// sqsSendMessage queues a message as a producer would: tests use it to put
// messages that are not IVS events into the queue.
func (e *Emulator) sqsSendMessage(_ *http.Request, body []byte) (any, error) {
	var in struct {
		QueueUrl, MessageBody string
		DelaySeconds          int
	}
	if err := decodeSQS(body, &in); err != nil {
		return nil, err
	}
	if err := e.checkQueueURL(in.QueueUrl); err != nil {
		return nil, err
	}
	switch {
	case in.MessageBody == "":
		return nil, missingParameter("MessageBody")
	case len(in.MessageBody) > maxMessageBytes:
		return nil, invalidParameter("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", maxMessageBytes)
	case in.DelaySeconds != 0:
		return nil, invalidParameter("the emulator's event queue does not delay messages (DelaySeconds)")
	}
	m := e.queue.send(in.MessageBody)
	return map[string]string{"MessageId": m.id, "MD5OfMessageBody": m.md5}, nil
}
