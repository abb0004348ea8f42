package sqs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/internal/whiptest"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/memory"
	"github.com/ivslive/ivslive/redis"
	"github.com/ivslive/ivslive/sqs"
)

// A host publishing over WHIP makes IVS emit "Participant Published"; the
// consumer, on the real SQS client, delivers it to the handler with every
// member, and deletes it.
func TestConsumerDeliversWHIPPublish(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	arn := e.stage(t, "whip")
	tok, err := e.ivs.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(arn),
		UserId: aws.String("host-1"), Capabilities: []ivstypes.ParticipantTokenCapability{ivstypes.ParticipantTokenCapabilityPublish}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	obs := newObserver()
	run(t, e.consumer(t, rec, nil, obs, nil))

	pub, err := whiptest.NewPublisher(whiptest.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	_, id, _ := strings.Cut(arn, ":stage/")
	resp, err := pub.Connect(t.Context(), e.srv.Client(), e.srv.URL+"/whip/"+id, aws.ToString(tok.ParticipantToken.Token))
	if err != nil || resp.Status != 201 {
		t.Fatalf("WHIP publish: %v %+v", err, resp)
	}
	testenv.Eventually(t, 20*time.Second, "the Published event at the handler", func() bool { return len(rec.events()) > 0 })
	ev := rec.events()[0]
	st, err := e.ivs.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	want := ivslive.IVSEvent{ID: ev.ID, Time: ev.Time, StageARN: arn, SessionID: aws.ToString(st.Stage.ActiveSessionId),
		Name: ivslive.IVSEventPublished, ParticipantID: aws.ToString(tok.ParticipantToken.ParticipantId), UserID: "host-1"}
	if ev != want {
		t.Errorf("event = %+v\nwant    %+v", ev, want)
	}
	if ev.ID == "" || ev.Time.IsZero() || time.Since(ev.Time) > time.Minute {
		t.Errorf("event id %q, time %v: want an id and the time it happened", ev.ID, ev.Time)
	}
	e.emptied(t)
	if n := obs.get(func(o *observer) int { return o.applied }); n != 1 {
		t.Errorf("applied counted %d times, want 1", n)
	}
}

// Two consumers on one queue, a visibility timeout of one second and a
// handler slow the first time: the slow event is redelivered to the other
// consumer while it is being applied, and every event is still applied
// once, with the event log in Redis (two instances) and in memory (one
// process).
func TestConsumersApplyEachEventOnce(t *testing.T) {
	for name, logs := range map[string]func(t *testing.T) (ivslive.EventLog, ivslive.EventLog){
		"memory": func(*testing.T) (ivslive.EventLog, ivslive.EventLog) {
			l := memory.NewEventLog(nil)
			return l, l
		},
		"redis": func(t *testing.T) (ivslive.EventLog, ivslive.EventLog) {
			client, prefix := testenv.Redis(t)
			return redis.NewEventLog(client, prefix), redis.NewEventLog(client, prefix)
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, emulator.Options{})
			arn := e.stage(t, "twice")
			obs := newObserver()
			rec := &recorder{}
			const events = 5
			rec.fail = func(call int, _ ivslive.IVSEvent) error {
				if call == 1 {
					// Hold the first event until someone received a message
					// again, after its visibility timeout.
					testenv.Eventually(t, 20*time.Second, "a redelivery", func() bool {
						return obs.get(func(o *observer) int { return o.received }) > events
					})
				}
				return nil
			}
			logA, logB := logs(t)
			tune := func(c *sqs.Consumer) { c.VisibilityTimeout = time.Second }
			run(t, e.consumer(t, rec, logA, obs, tune))
			run(t, e.consumer(t, rec, logB, obs, tune))
			for i := range events {
				e.em.SetPublishing(arn, "p"+string(rune('1'+i)), true)
			}
			e.settled(t, obs)
			got := rec.byParticipant()
			if len(got) != events {
				t.Errorf("applied %v, want %d participants' events", got, events)
			}
			for p, n := range got {
				if n != 1 {
					t.Errorf("the event of %s was applied %d times", p, n)
				}
			}
			if n := obs.get(func(o *observer) int { return o.received }); n <= events {
				t.Errorf("received %d messages for %d events: nothing was redelivered, the test proved nothing", n, events)
			}
		})
	}
}

// Messages that are not usable IVS events are deleted and counted, and the
// good event behind them is applied.
func TestConsumerDropsBadMessages(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	arn := e.stage(t, "bad")
	client := e.client(t)
	for _, body := range []string{
		"not json",
		`{"id":"x1","source":"aws.s3","detail-type":"Object Created","time":"2026-05-01T12:00:00Z","resources":[],"detail":{}}`,
		`{"id":"x2","source":"aws.ivs","detail-type":"IVS Stage Update","time":"2026-05-01T12:00:00Z","resources":["` + arn + `"],"detail":{"event_name":"Participant Published","session_id":"st-1"}}`,
		`{"id":"x3","source":"aws.ivs","detail-type":"IVS Stage Update","time":"2026-05-01T12:00:00Z","resources":["` + arn + `"],"detail":{"event_name":"Session Created","participant_id":"p"}}`,
		`{"id":"x4","source":"aws.ivs","detail-type":"IVS Stage Update","time":"yesterday","resources":["` + arn + `"],"detail":{"event_name":"Participant Published","participant_id":"p"}}`,
		`{"id":"x5","source":"aws.ivs","detail-type":"IVS Stage Update","time":"2026-05-01T12:00:00Z","resources":["not-an-arn"],"detail":{"event_name":"Participant Published","participant_id":"p"}}`,
	} {
		if _, err := client.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(e.queueURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	// An event the handler refuses as invalid is not retried either.
	e.em.SetPublishing(arn, "refused", true)
	e.em.SetPublishing(arn, "good", true)
	rec := &recorder{fail: func(_ int, ev ivslive.IVSEvent) error {
		if ev.ParticipantID == "refused" {
			return ivslive.Errorf(ivslive.EVALIDATION, "no such participant")
		}
		return nil
	}}
	obs := newObserver()
	run(t, e.consumer(t, rec, nil, obs, nil))
	testenv.Eventually(t, 20*time.Second, "the good event applied", func() bool { return len(rec.events()) == 1 })
	e.emptied(t)
	if got := rec.events()[0].ParticipantID; got != "good" {
		t.Errorf("applied %s's event, want good's", got)
	}
	rec.mu.Lock()
	calls := rec.calls
	rec.mu.Unlock()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.dropped[sqs.DropInvalid] != 5 || obs.dropped[sqs.DropIgnored] != 2 || obs.received != 8 || calls != 2 {
		t.Errorf("received %d, dropped %v, handler calls %d; want 8 received, 5 invalid, 2 ignored, 2 calls", obs.received, obs.dropped, calls)
	}
}

// A failed apply leaves the message for redelivery (its claim released),
// and the event is applied when the handler recovers; an event that keeps
// failing is dropped as poison after MaxReceives, while the others go on.
func TestConsumerRetriesAndDropsPoison(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	arn := e.stage(t, "retry")
	rec := &recorder{}
	failures := map[string]int{}
	rec.fail = func(_ int, ev ivslive.IVSEvent) error {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		failures[ev.ParticipantID]++
		if ev.ParticipantID == "poison" || (ev.ParticipantID == "flaky" && failures["flaky"] == 1) {
			return errors.New("store down")
		}
		return nil
	}
	obs := newObserver()
	run(t, e.consumer(t, rec, nil, obs, func(c *sqs.Consumer) { c.VisibilityTimeout = time.Second; c.MaxReceives = 2 }))
	e.em.SetPublishing(arn, "poison", true)
	e.em.SetPublishing(arn, "flaky", true)
	e.em.SetPublishing(arn, "fine", true)
	e.emptied(t)
	if got := rec.byParticipant(); got["flaky"] != 1 || got["fine"] != 1 || got["poison"] != 0 {
		t.Errorf("applied %v, want flaky and fine once, poison never", got)
	}
	rec.mu.Lock()
	if failures["poison"] != 2 || failures["flaky"] != 2 {
		t.Errorf("apply calls %v, want poison 2 (MaxReceives) and flaky 2", failures)
	}
	rec.mu.Unlock()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.dropped[sqs.DropPoison] != 1 || obs.errors["apply"] != 3 {
		t.Errorf("dropped %v, errors %v; want 1 poison and 3 apply errors", obs.dropped, obs.errors)
	}
}

// Events the emulator loses on purpose never reach the consumer.
func TestConsumerNeverSeesDroppedEvents(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	arn := e.stage(t, "lossy")
	e.em.DropEvents(2)
	e.em.SetPublishing(arn, "lost", true)
	e.em.SetPublishing(arn, "lost", false)
	e.em.SetPublishing(arn, "kept", true)
	rec := &recorder{}
	run(t, e.consumer(t, rec, nil, nil, nil))
	testenv.Eventually(t, 20*time.Second, "the kept event", func() bool { return len(rec.events()) > 0 })
	e.emptied(t)
	if got := rec.byParticipant(); len(got) != 1 || got["kept"] != 1 {
		t.Errorf("applied %v, want kept's event only", got)
	}
	if st := e.em.EventQueueStats(); st.Dropped != 2 {
		t.Errorf("dropped %d, want 2", st.Dropped)
	}
}

// A queue that fails is retried with a backoff, and Run returns promptly
// when its context ends, even in a long poll.
func TestConsumerRecoversAndStops(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	arn := e.stage(t, "faulty")
	// The SDK tries three times; two rounds of that fail.
	e.em.InjectError("ReceiveMessage", "InternalError", 500, 6)
	e.em.SetPublishing(arn, "p", true)
	rec := &recorder{}
	obs := newObserver()
	c := e.consumer(t, rec, nil, obs, func(c *sqs.Consumer) { c.WaitTime = 20 * time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, 20*time.Second, "the event applied after the failures", func() bool { return len(rec.events()) == 1 })
	if n := obs.get(func(o *observer) int { return o.errors["receive"] }); n != 2 {
		t.Errorf("receive errors = %d, want 2", n)
	}
	if st := c.Status(); st.LastReceive.IsZero() || !st.FailingSince.IsZero() || st.LastError != "" {
		t.Errorf("status after recovering = %+v, want a receive and no failure", st)
	}
	// A queue that keeps failing shows in the status, until it answers.
	e.em.InjectError("ReceiveMessage", "InternalError", 500, 1000)
	testenv.Eventually(t, 30*time.Second, "the failure in the status", func() bool {
		st := c.Status()
		return !st.FailingSince.IsZero() && strings.Contains(st.LastError, "InternalError")
	})
	e.em.InjectError("ReceiveMessage", "", 0, 0)
	testenv.Eventually(t, 30*time.Second, "the status cleared", func() bool { return c.Status().FailingSince.IsZero() })
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
}

// The endpoint comes from the queue URL: AWS's own for AWS hosts (with
// their region), the URL's base for any other host (the emulator).
func TestEndpoint(t *testing.T) {
	for _, c := range []struct{ url, endpoint, region, err string }{
		{url: "https://sqs.eu-west-1.amazonaws.com/123456789012/ivs-events", region: "eu-west-1"},
		{url: "https://eu-west-1.queue.amazonaws.com/123456789012/ivs-events", region: "eu-west-1"},
		{url: "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", region: "cn-north-1"},
		{url: "http://127.0.0.1:4000/sqs/123456789012/ivslive-events", endpoint: "http://127.0.0.1:4000/sqs"},
		{url: "http://localhost:3000/ivs/sqs/123456789012/ivslive-events", endpoint: "http://localhost:3000/ivs/sqs"},
		{url: "http://localhost:9324/000000000000/q", endpoint: "http://localhost:9324"},
		{url: "sqs.us-east-1.amazonaws.com/1/q", err: "absolute"},
		{url: "https://sqs.us-east-1.amazonaws.com/q", err: "/<account>/<queue name>"},
	} {
		endpoint, region, err := sqs.Endpoint(c.url)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Endpoint(%s) error = %v, want %q", c.url, err, c.err)
			}
			continue
		}
		if err != nil || endpoint != c.endpoint || region != c.region {
			t.Errorf("Endpoint(%s) = %q, %q, %v; want %q, %q", c.url, endpoint, region, err, c.endpoint, c.region)
		}
	}
}
