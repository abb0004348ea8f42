package ivslive

import (
	"context"
	"time"
)

// DeadLetter is a closed-session record the history store refused for its
// content (a data error, not an outage): it is kept aside with the reason,
// so one odd record never stops the records behind it, and nothing the API
// acknowledged is silently lost.
type DeadLetter struct {
	// Key identifies the record (a hash of its source and content), so a
	// record refused twice, after a redelivery, is kept once.
	Key string
	// Source is where the record came from: "store" (a batch written to
	// the history store), "stream" (an unreadable Redis stream entry) or
	// "spool" (an unreadable spooled record).
	Source string
	// SessionID is the record's session id when it could be read.
	SessionID string
	// Record is the record as it arrived, as JSON.
	Record string
	// Error says why it was refused.
	Error string
	// FailedAt is when it was refused.
	FailedAt time.Time
}

// Dead-letter sources.
const (
	DeadLetterFromStore  = "store"
	DeadLetterFromStream = "stream"
	DeadLetterFromSpool  = "spool"
)

// DeadLetterFilter selects dead letters, newest first. After is an opaque
// cursor from a previous page.
type DeadLetterFilter struct {
	After string
	Limit int
}

// DeadLetterSink keeps refused records. The history twins implement it; the
// Redis recorder and the spool hand it the entries they cannot even read
// when their sink implements it.
type DeadLetterSink interface {
	// SaveDeadLetters stores refused records, each once by Key.
	SaveDeadLetters(ctx context.Context, letters []DeadLetter) error
}

// DeadLetters is the history store's dead-letter table.
type DeadLetters interface {
	DeadLetterSink
	// FindDeadLetters returns one page of dead letters, newest first, the
	// cursor of the next page, and how many there are in all.
	FindDeadLetters(ctx context.Context, f DeadLetterFilter) ([]DeadLetter, string, int, error)
	// DeleteDeadLettersBefore enforces retention (they hold the same
	// personal data as viewing records) and returns how many went.
	DeleteDeadLettersBefore(ctx context.Context, t time.Time) (int64, error)
}
