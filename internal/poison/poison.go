// Package poison keeps one bad record from stopping the history pipeline.
// Both history twins write closed sessions through Record: records that
// cannot be stored as they are go to the dead letters, the rest are written,
// and only an outage fails the call, so the Redis recorder and the spool
// retry exactly what an outage left unwritten and never a poison record.
package poison

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/ivslive/ivslive"
)

// Bounds of what a dead letter keeps.
const (
	maxRecord = 64 << 10
	maxError  = 1024
)

// Record writes sessions with insert and returns how many went to the dead
// letters (through save) instead. Before any write, each record is checked
// (ClosedSession.Check: the same rule in both twins) and its free text made
// safe (ViewerSession.Cleaned). When insert then fails with a data error
// (EVALIDATION: the adapter's translation of the database refusing a
// value), the batch is split in halves, down to the single records the
// database refuses, which are dead-lettered with its error. Any other error
// (an outage) is returned at once: the caller retries the whole batch,
// which insert, idempotent by session id, and save, idempotent by key,
// absorb.
func Record(ctx context.Context, sessions []ivslive.ClosedSession, now time.Time,
	insert func(context.Context, []ivslive.ClosedSession) error,
	save func(context.Context, []ivslive.DeadLetter) error,
) (int, error) {
	good, letters := screen(sessions, now)
	refused, err := split(ctx, good, insert)
	if err != nil {
		return 0, err
	}
	for _, r := range refused {
		letters = append(letters, Letter(ivslive.DeadLetterFromStore, r.session.ID, Marshal(r.session), r.err, now))
	}
	if len(letters) == 0 {
		return 0, nil
	}
	if err := save(ctx, letters); err != nil {
		return 0, err
	}
	return len(letters), nil
}

// screen sets aside the records that fail ClosedSession.Check and cleans
// the free text of the others. When every record passes as it is (the
// usual batch) it returns sessions itself, without a copy.
func screen(sessions []ivslive.ClosedSession, now time.Time) ([]ivslive.ClosedSession, []ivslive.DeadLetter) {
	clean := true
	for _, c := range sessions {
		if c.Check() != nil || c.ViewerSession.Cleaned() != c.ViewerSession {
			clean = false
			break
		}
	}
	if clean {
		return sessions, nil
	}
	good := make([]ivslive.ClosedSession, 0, len(sessions))
	var letters []ivslive.DeadLetter
	for _, c := range sessions {
		if err := c.Check(); err != nil {
			letters = append(letters, Letter(ivslive.DeadLetterFromStore, c.ID, Marshal(c), err, now))
			continue
		}
		c.ViewerSession = c.ViewerSession.Cleaned()
		good = append(good, c)
	}
	return good, letters
}

type refusal struct {
	session ivslive.ClosedSession
	err     error
}

// split writes batch, halving it on data errors; with k bad records among
// n it costs about 2k·log2(n) writes, and one when there is none.
func split(ctx context.Context, batch []ivslive.ClosedSession, insert func(context.Context, []ivslive.ClosedSession) error) ([]refusal, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	err := insert(ctx, batch)
	switch {
	case err == nil:
		return nil, nil
	case ivslive.ErrorCode(err) != ivslive.EVALIDATION:
		return nil, err
	case len(batch) == 1:
		return []refusal{{batch[0], err}}, nil
	}
	mid := len(batch) / 2
	left, err := split(ctx, batch[:mid], insert)
	if err != nil {
		return nil, err
	}
	right, err := split(ctx, batch[mid:], insert)
	if err != nil {
		return nil, err
	}
	return append(left, right...), nil
}

// Letter builds the dead letter of a record refused with err. record is the
// record as it arrived (JSON when it could be encoded); the key is a hash of
// source and record, so the same record refused again is stored once.
func Letter(source, sessionID, record string, err error, now time.Time) ivslive.DeadLetter {
	sum := sha256.Sum256([]byte(source + "\x00" + record))
	return ivslive.DeadLetter{
		Key:       hex.EncodeToString(sum[:16]),
		Source:    source,
		SessionID: ivslive.StoredText(sessionID, 256),
		Record:    ivslive.StoredText(record, maxRecord),
		Error:     ivslive.StoredText(err.Error(), maxError),
		FailedAt:  now.UTC(),
	}
}

// Marshal encodes a record for Letter as JSON. encoding/json escapes
// control characters (a NUL becomes \u0000), so the text is safe to store;
// a byte that is not UTF-8 becomes U+FFFD.
func Marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// Listener holds the function that hears of new dead letters; the zero
// value has none. It is safe to set while stores write.
type Listener struct {
	f atomic.Pointer[func([]ivslive.DeadLetter)]
}

// Set sets the function.
func (l *Listener) Set(f func([]ivslive.DeadLetter)) { l.f.Store(&f) }

// Tell hands letters to the function, if any and if there are letters.
func (l *Listener) Tell(letters []ivslive.DeadLetter) {
	if f := l.f.Load(); f != nil && *f != nil && len(letters) > 0 {
		(*f)(letters)
	}
}
