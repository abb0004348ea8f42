package sqs_test

import (
	"context"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs/emulator"
)

// chanHandler hands every applied event to a channel.
type chanHandler chan ivslive.IVSEvent

func (h chanHandler) ApplyIVSEvent(_ context.Context, ev ivslive.IVSEvent) error {
	h <- ev
	return nil
}

// BenchmarkEventDelivery measures one event from the emulator's EventBridge
// emit to the handler, through the queue, a waiting long poll of the real
// SQS client, the envelope parse and the event log claim (memory); the
// delete and the applied mark follow the handler.
func BenchmarkEventDelivery(b *testing.B) {
	e := newEnv(b, emulator.Options{})
	arn := e.stage(b, "bench")
	h := make(chanHandler, 1)
	c := e.consumer(b, h, nil, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	b.ResetTimer()
	for i := range b.N {
		e.em.SetPublishing(arn, "p", i%2 == 0)
		<-h
	}
}
