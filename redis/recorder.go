package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/poison"
)

// historyGroup is the consumer group that feeds the history store. The
// Recorder deletes the entries this group acknowledged, so it must stay the
// only group on the stream.
const historyGroup = "history"

const (
	recorderBatch  = 500
	recorderBlock  = time.Second
	defaultMinIdle = 30 * time.Second
	backoffMin     = 50 * time.Millisecond
	backoffMax     = 5 * time.Second
	ackTimeout     = 5 * time.Second
)

// Recorder moves closed-session records from the sessions:closed stream to
// a SessionSink (the history store) exactly once: an entry is acknowledged
// and deleted only after the sink stored it (written, or refused for its
// content and dead-lettered: the history twins fail only in an outage), so
// a sink outage or a crash leaves it pending for a retry, and the sink's
// idempotency by session id makes a redelivery harmless. Several Recorders (one per instance, each
// with its own consumer name) may share a stream: they split the entries,
// and a live one claims what a dead one left pending.
type Recorder struct {
	client   goredis.UniversalClient
	stream   string
	sink     ivslive.SessionSink
	consumer string
	log      *slog.Logger
	minIdle  time.Duration
	now      func() time.Time
}

// RecorderOption configures a Recorder.
type RecorderOption func(*Recorder)

// WithMinIdle sets how long an entry delivered to another consumer must go
// unacknowledged before Run claims it (30 s by default). Shorter than the
// slowest sink call only costs duplicate deliveries, which the sink absorbs.
func WithMinIdle(d time.Duration) RecorderOption {
	return func(r *Recorder) { r.minIdle = d }
}

// WithClock sets the clock that dates dead letters (time.Now by default).
func WithClock(now func() time.Time) RecorderOption {
	return func(r *Recorder) { r.now = now }
}

// NewRecorder returns a Recorder for the stream under prefix (the prefix
// given to NewPresence) that delivers to sink as the named consumer of the
// "history" group. An empty consumer becomes host name and process id;
// a nil log discards.
func NewRecorder(client goredis.UniversalClient, prefix string, sink ivslive.SessionSink, consumer string, log *slog.Logger, opts ...RecorderOption) *Recorder {
	if consumer == "" {
		host, _ := os.Hostname()
		consumer = host + "-" + strconv.Itoa(os.Getpid())
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{client: client, stream: streamKey(prefix), sink: sink, consumer: consumer, log: log, minIdle: defaultMinIdle, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Run delivers records until ctx is done, then returns nil (within about a
// second: the blocking read is not interrupted). Each pass first
// retries this consumer's own pending entries, then claims entries another
// consumer left unacknowledged for the min-idle time, then waits up to a
// second for new ones. Failures (Redis or sink) are logged and retried with
// exponential backoff; nothing is acknowledged until the sink stored it. It
// returns an error only when the stream key holds another type, which no
// retry can fix.
func (r *Recorder) Run(ctx context.Context) error {
	wait := time.Duration(0)
	for {
		err := r.ensureGroup(ctx)
		if err == nil {
			break
		}
		if goredis.HasErrorPrefix(err, "WRONGTYPE") {
			return err
		}
		wait = r.backoff(ctx, wait, err)
		if ctx.Err() != nil {
			return nil
		}
	}
	wait = 0
	for ctx.Err() == nil {
		_, err := r.pass(ctx, r.minIdle, recorderBlock)
		if err == nil {
			wait = 0
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if goredis.HasErrorPrefix(err, "NOGROUP") {
			// The stream was deleted; recreate it and the group.
			if gerr := r.ensureGroup(ctx); gerr != nil {
				err = gerr
			}
		}
		wait = r.backoff(ctx, wait, err)
	}
	return nil
}

// backoff logs err and sleeps the next exponential step (or until ctx is
// done), returning the step it slept.
func (r *Recorder) backoff(ctx context.Context, last time.Duration, err error) time.Duration {
	next := min(max(2*last, backoffMin), backoffMax)
	r.log.Error("session recorder failed; undelivered records stay in the stream and will be retried",
		"stream", r.stream, "consumer", r.consumer, "retry_in", next, "err", err)
	t := time.NewTimer(next)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return next
}

// Flush delivers everything the stream holds for the group right now: this
// consumer's pending entries, every other consumer's pending entries
// (claimed at once, min-idle 0) and new entries, and returns when none is
// left. It is for tests and shutdown; a sink error is returned, leaving the
// entries pending.
func (r *Recorder) Flush(ctx context.Context) error {
	if err := r.ensureGroup(ctx); err != nil {
		return err
	}
	for {
		n, err := r.pass(ctx, 0, -1)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// Backlog returns how many records wait for delivery. Delivered entries are
// deleted, so this is the stream length.
func (r *Recorder) Backlog(ctx context.Context) (int64, error) {
	n, err := r.client.XLen(ctx, r.stream).Result()
	if err != nil {
		return 0, r.unavailable("backlog", err)
	}
	return n, nil
}

// Oldest returns when the oldest record waiting for delivery was written
// (its entry id is Redis's clock in milliseconds), or the zero time when
// none waits.
func (r *Recorder) Oldest(ctx context.Context) (time.Time, error) {
	msgs, err := r.client.XRangeN(ctx, r.stream, "-", "+", 1).Result()
	if err != nil {
		return time.Time{}, r.unavailable("oldest", err)
	}
	if len(msgs) == 0 {
		return time.Time{}, nil
	}
	ms, _, _ := strings.Cut(msgs[0].ID, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("redis recorder: entry id %q: %w", msgs[0].ID, err)
	}
	return time.UnixMilli(n).UTC(), nil
}

func (r *Recorder) unavailable(op string, err error) error {
	return ivslive.WrapError(ivslive.EUNAVAILABLE, "session stream unavailable", fmt.Errorf("redis recorder %s on %s: %w", op, r.stream, err))
}

// ensureGroup creates the group from the start of the stream, so records
// written before any Recorder ran are delivered too.
func (r *Recorder) ensureGroup(ctx context.Context) error {
	err := r.client.XGroupCreateMkStream(ctx, r.stream, historyGroup, "0").Err()
	if err != nil && !goredis.HasErrorPrefix(err, "BUSYGROUP") {
		return r.unavailable("create group", err)
	}
	return nil
}

// pass runs one round of own pending, claim and new, and returns how many
// entries it handled. block < 0 reads new entries without waiting.
func (r *Recorder) pass(ctx context.Context, minIdle, block time.Duration) (int, error) {
	total := 0
	for {
		msgs, err := r.read(ctx, "0", -1)
		if err != nil {
			return total, err
		}
		if len(msgs) == 0 {
			break
		}
		if err := r.deliver(ctx, msgs); err != nil {
			return total, err
		}
		total += len(msgs)
	}
	for start := "0-0"; ; {
		msgs, next, err := r.client.XAutoClaim(ctx, &goredis.XAutoClaimArgs{
			Stream: r.stream, Group: historyGroup, Consumer: r.consumer, MinIdle: minIdle, Start: start, Count: recorderBatch,
		}).Result()
		if err != nil {
			return total, r.unavailable("claim", err)
		}
		if err := r.deliver(ctx, msgs); err != nil {
			return total, err
		}
		total += len(msgs)
		if next == "0-0" || next == "" {
			break
		}
		start = next
	}
	msgs, err := r.read(ctx, ">", block)
	if err != nil {
		return total, err
	}
	if err := r.deliver(ctx, msgs); err != nil {
		return total, err
	}
	return total + len(msgs), nil
}

// read reads this consumer's pending entries (id "0") or new ones (">").
func (r *Recorder) read(ctx context.Context, id string, block time.Duration) ([]goredis.XMessage, error) {
	res, err := r.client.XReadGroup(ctx, &goredis.XReadGroupArgs{
		Group: historyGroup, Consumer: r.consumer, Streams: []string{r.stream, id}, Count: recorderBatch, Block: block,
	}).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, r.unavailable("read "+id, err)
	}
	if len(res) == 0 {
		return nil, nil
	}
	return res[0].Messages, nil
}

// deliver hands one batch to the sink and acknowledges it only on success.
// Entries that cannot even be parsed are acknowledged too, once they are
// in the sink's dead letters when it keeps them (ivslive.DeadLetterSink),
// or with an error log otherwise: a poison entry must not block the queue.
func (r *Recorder) deliver(ctx context.Context, msgs []goredis.XMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	batch := make([]ivslive.ClosedSession, 0, len(msgs))
	ids := make([]string, 0, len(msgs))
	var (
		malformed []string
		letters   []ivslive.DeadLetter
	)
	for _, m := range msgs {
		c, err := entrySession(m.Values)
		if err != nil {
			r.log.Error("malformed closed-session entry", "stream", r.stream, "id", m.ID, "err", err)
			malformed = append(malformed, m.ID)
			id, _ := m.Values["id"].(string)
			letters = append(letters, poison.Letter(ivslive.DeadLetterFromStream, id, poison.Marshal(m.Values), fmt.Errorf("entry %s: %w", m.ID, err), r.now()))
			continue
		}
		batch = append(batch, c)
		ids = append(ids, m.ID)
	}
	if dl, ok := r.sink.(ivslive.DeadLetterSink); ok && len(letters) > 0 {
		if err := dl.SaveDeadLetters(ctx, letters); err != nil {
			return fmt.Errorf("dead-letter %d malformed entries from %s: %w", len(letters), r.stream, err)
		}
	}
	if err := r.ack(ctx, malformed); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	if err := r.sink.RecordSessions(ctx, batch); err != nil {
		return fmt.Errorf("record %d closed sessions from %s: %w", len(batch), r.stream, err)
	}
	// The sink has them: acknowledge even if ctx was cancelled meanwhile, so
	// a shutdown does not cause a needless redelivery.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	return r.ack(actx, ids)
}

// ack acknowledges and deletes entries in one MULTI, which keeps the stream
// bounded by what is still undelivered. Should it fail after the sink
// stored them, they are delivered again, which the sink absorbs.
func (r *Recorder) ack(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := r.client.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		pipe.XAck(ctx, r.stream, historyGroup, ids...)
		pipe.XDel(ctx, r.stream, ids...)
		return nil
	})
	if err != nil {
		return r.unavailable("ack", err)
	}
	return nil
}

// entrySession parses a stream entry written by the close function of the
// scripts. A record without session id, user, stage or reason, or with a
// bad time, is malformed.
func entrySession(values map[string]any) (ivslive.ClosedSession, error) {
	if len(values) == 0 {
		return ivslive.ClosedSession{}, errors.New("entry has no fields (deleted payload)")
	}
	var rec closedRecord
	names := [closedWidth]string{"id", "user", "stage", "pid", "joined", "last", "left", "reason", "ua", "ip"}
	for i, name := range names {
		v, ok := values[name]
		if !ok {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return ivslive.ClosedSession{}, fmt.Errorf("field %s is %T, not a string", name, v)
		}
		rec[i] = s
	}
	for _, i := range [...]int{0, 1, 2, 7} {
		if rec[i] == "" {
			return ivslive.ClosedSession{}, fmt.Errorf("field %s missing", names[i])
		}
	}
	return rec.session()
}
