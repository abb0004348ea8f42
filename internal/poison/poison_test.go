package poison_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/poison"
)

// fakeDB refuses any batch holding a "bad" user, as a database refuses a
// whole statement for one row, and can be made to fail like an outage.
type fakeDB struct {
	rows    map[string]bool
	writes  int
	outage  error
	letters []ivslive.DeadLetter
}

func (f *fakeDB) insert(_ context.Context, batch []ivslive.ClosedSession) error {
	f.writes++
	if f.outage != nil {
		return f.outage
	}
	for _, c := range batch {
		if c.UserID == "bad" {
			return ivslive.Errorf(ivslive.EVALIDATION, "row %s refused", c.ID)
		}
	}
	for _, c := range batch {
		f.rows[c.ID] = true
	}
	return nil
}

func (f *fakeDB) save(_ context.Context, l []ivslive.DeadLetter) error {
	f.letters = append(f.letters, l...)
	return nil
}

func batch(n int, bad ...int) []ivslive.ClosedSession {
	out := make([]ivslive.ClosedSession, n)
	for i := range out {
		out[i] = ivslive.ClosedSession{ViewerSession: ivslive.ViewerSession{ID: fmt.Sprint("s", i), UserID: "u",
			StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/a"}, Reason: ivslive.EndLeave}
	}
	for _, i := range bad {
		out[i].UserID = "bad"
	}
	return out
}

func TestRecordIsolatesRefusedRows(t *testing.T) {
	db := &fakeDB{rows: map[string]bool{}}
	n, err := poison.Record(context.Background(), batch(500, 17, 318), time.Now(), db.insert, db.save)
	if err != nil || n != 2 {
		t.Fatalf("Record: %d dead letters, %v; want 2", n, err)
	}
	if len(db.rows) != 498 || db.rows["s17"] || db.rows["s318"] {
		t.Fatalf("%d rows written (s17 %v, s318 %v), want the 498 good ones", len(db.rows), db.rows["s17"], db.rows["s318"])
	}
	if db.letters[0].SessionID != "s17" || db.letters[1].SessionID != "s318" || db.letters[0].Error == "" {
		t.Fatalf("dead letters %+v", db.letters)
	}
	// Halving finds two bad rows among 500 in a few dozen writes, not 500.
	if db.writes > 2*2*9+1 {
		t.Fatalf("%d writes to isolate 2 bad rows among 500", db.writes)
	}
	t.Logf("%d writes to isolate 2 bad rows among 500", db.writes)

	clean := &fakeDB{rows: map[string]bool{}}
	if _, err := poison.Record(context.Background(), batch(500), time.Now(), clean.insert, clean.save); err != nil || clean.writes != 1 {
		t.Fatalf("a clean batch took %d writes, %v; want 1", clean.writes, err)
	}
}

func TestRecordReturnsAnOutage(t *testing.T) {
	down := errors.New("connection refused")
	db := &fakeDB{rows: map[string]bool{}, outage: ivslive.WrapError(ivslive.EUNAVAILABLE, "down", down)}
	_, err := poison.Record(context.Background(), batch(10, 3), time.Now(), db.insert, db.save)
	if !errors.Is(err, down) || len(db.letters) != 0 {
		t.Fatalf("Record during an outage: %v, %d dead letters; want the outage, none", err, len(db.letters))
	}
}

func TestLetterKeyIsStable(t *testing.T) {
	a := poison.Letter(ivslive.DeadLetterFromStream, "s1", `{"id":"s1"}`, errors.New("x"), time.Now())
	b := poison.Letter(ivslive.DeadLetterFromStream, "s1", `{"id":"s1"}`, errors.New("y"), time.Now().Add(time.Hour))
	c := poison.Letter(ivslive.DeadLetterFromSpool, "s1", `{"id":"s1"}`, errors.New("x"), time.Now())
	if a.Key != b.Key || a.Key == c.Key {
		t.Fatalf("keys %s %s %s: the same record from one source must share a key, another source not", a.Key, b.Key, c.Key)
	}
}
