package contract

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ivslive/ivslive"
)

// RefusedUser is the user id whose records a Refuse hook makes the database
// itself refuse, with this text in the error.
const (
	RefusedUser = "refused-user"
	RefusedText = "refused_by_test"
)

// deadLetterCases holds both twins to the same poison isolation: what
// cannot be stored is dead-lettered with its error, everything else is
// written, and only an outage fails the call. refuse makes the twin's
// database refuse RefusedUser's records (a constraint or trigger naming
// RefusedText), so the database's own refusals are covered, not only the
// checks made before writing.
func deadLetterCases(t *testing.T, open func(t *testing.T) ivslive.HistoryStore, refuse func(t *testing.T, h ivslive.HistoryStore)) {
	ctx := context.Background()

	t.Run("a record that cannot be stored is dead-lettered, the rest written", func(t *testing.T) {
		h := open(t)
		cut := strings.Repeat("a", ivslive.MaxUserAgent-1) + "é" // cut at 512 bytes: half a character
		batch := []ivslive.ClosedSession{
			closed("ok1", "u1", stageA, t0, time.Minute, ivslive.EndLeave),
			closed("nul", "evil\x00", stageA, t0, time.Minute, ivslive.EndLeave),
			closed("ok2", "u2", stageA, t0, time.Minute, ivslive.EndLeave),
			closed("utf8", "bad\xffid", stageA, t0, time.Minute, ivslive.EndLeave),
			closed("reason", "u3", stageA, t0, time.Minute, "vanished"),
			closed("ua", "u4", stageA, t0, time.Minute, ivslive.EndLeave),
		}
		batch[5].UserAgent, batch[5].IP = cut[:ivslive.MaxUserAgent], "192.0.2.1\x00"
		for i := 0; i < 2; i++ { // a redelivery changes nothing
			if err := h.RecordSessions(ctx, batch); err != nil {
				t.Fatalf("delivery %d: %v", i+1, err)
			}
		}
		for _, u := range []string{"u1", "u2", "u4"} {
			if _, _, n, err := h.FindSessions(ctx, ivslive.SessionFilter{UserID: u, Limit: 10}); err != nil || n != 1 {
				t.Fatalf("%s: %d sessions, %v; want 1", u, n, err)
			}
		}
		got, _, _, _ := h.FindSessions(ctx, ivslive.SessionFilter{UserID: "u4", Limit: 1})
		if ua := got[0].UserAgent; !utf8.ValidString(ua) || ua != strings.Repeat("a", ivslive.MaxUserAgent-1) || got[0].IP != "192.0.2.1" {
			t.Fatalf("stored free text %q (%d bytes), ip %q: want valid UTF-8 cut on a rune boundary, no NUL", ua, len(ua), got[0].IP)
		}
		letters := allDeadLetters(t, h)
		want := map[string]string{"nul": "userId", "utf8": "userId", "reason": "endReason"}
		if len(letters) != len(want) {
			t.Fatalf("%d dead letters, want %d: %+v", len(letters), len(want), letters)
		}
		for _, l := range letters {
			field, ok := want[l.SessionID]
			if !ok || !strings.Contains(l.Error, field) || l.Source != ivslive.DeadLetterFromStore ||
				!strings.Contains(l.Record, `"ID":"`+l.SessionID+`"`) || l.FailedAt.IsZero() || l.Key == "" {
				t.Errorf("dead letter %+v: want session %s refused for its %s, with its record", l, l.SessionID, field)
			}
		}
	})

	t.Run("a record the database refuses is dead-lettered, the rest written", func(t *testing.T) {
		h := open(t)
		refuse(t, h)
		var batch []ivslive.ClosedSession
		for i := 0; i < 9; i++ {
			user := fmt.Sprint("v", i)
			if i == 4 || i == 7 {
				user = RefusedUser
			}
			batch = append(batch, closed(fmt.Sprint("s", i), user, stageA, t0.Add(time.Duration(i)*time.Second), time.Minute, ivslive.EndLeave))
		}
		if err := h.RecordSessions(ctx, batch); err != nil {
			t.Fatal(err)
		}
		for i, c := range batch {
			_, _, n, err := h.FindSessions(ctx, ivslive.SessionFilter{UserID: c.UserID, Limit: 10})
			if err != nil || (c.UserID != RefusedUser && n != 1) || (c.UserID == RefusedUser && n != 0) {
				t.Fatalf("record %d (%s): %d stored, %v", i, c.UserID, n, err)
			}
		}
		letters := allDeadLetters(t, h)
		if len(letters) != 2 {
			t.Fatalf("%d dead letters, want 2: %+v", len(letters), letters)
		}
		for _, l := range letters {
			if (l.SessionID != "s4" && l.SessionID != "s7") || !strings.Contains(l.Error, RefusedText) {
				t.Errorf("dead letter %+v: want s4 or s7 with the database's error", l)
			}
		}
	})

	t.Run("an outage fails the call and dead-letters nothing", func(t *testing.T) {
		h := open(t)
		expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		err := h.RecordSessions(expired, []ivslive.ClosedSession{closed("s1", "u1", stageA, t0, time.Minute, ivslive.EndLeave)})
		if ivslive.ErrorCode(err) != ivslive.EUNAVAILABLE {
			t.Fatalf("record past its deadline: %v, want %s", err, ivslive.EUNAVAILABLE)
		}
		if letters := allDeadLetters(t, h); len(letters) != 0 {
			t.Fatalf("an outage was dead-lettered: %+v", letters)
		}
		if _, _, _, err := h.FindSessions(expired, ivslive.SessionFilter{UserID: "u1", Limit: 1}); ivslive.ErrorCode(err) != ivslive.EUNAVAILABLE {
			t.Fatalf("read past its deadline: %v, want %s", err, ivslive.EUNAVAILABLE)
		}
	})

	t.Run("dead letters page newest first, each kept once", func(t *testing.T) {
		h := open(t)
		var letters []ivslive.DeadLetter
		for i := 0; i < 7; i++ {
			letters = append(letters, ivslive.DeadLetter{Key: fmt.Sprint("k", i), Source: ivslive.DeadLetterFromStream,
				SessionID: fmt.Sprint("s", i), Record: `{"id":"x"}`, Error: "bad", FailedAt: t0.Add(time.Duration(i) * time.Second)})
		}
		letters = append(letters, letters[0]) // the same record refused again
		if err := h.SaveDeadLetters(ctx, letters); err != nil {
			t.Fatal(err)
		}
		if err := h.SaveDeadLetters(ctx, letters[:3]); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for cur, pages := "", 0; ; pages++ {
			page, next, total, err := h.FindDeadLetters(ctx, ivslive.DeadLetterFilter{After: cur, Limit: 3})
			if err != nil || total != 7 {
				t.Fatalf("page: total %d, %v; want 7", total, err)
			}
			for _, l := range page {
				keys = append(keys, l.Key)
			}
			if next == "" || pages > 5 {
				break
			}
			cur = next
		}
		if strings.Join(keys, ",") != "k6,k5,k4,k3,k2,k1,k0" {
			t.Fatalf("keys %v, want k6 to k0", keys)
		}
		if n, err := h.DeleteDeadLettersBefore(ctx, t0.Add(2*time.Second)); err != nil || n != 2 {
			t.Fatalf("retention deleted %d, %v; want 2 (k0, k1)", n, err)
		}
		if _, _, total, _ := h.FindDeadLetters(ctx, ivslive.DeadLetterFilter{Limit: 1}); total != 5 {
			t.Fatalf("%d dead letters after retention, want 5", total)
		}
	})

	t.Run("a checkpoint leaves out the sessions it cannot store", func(t *testing.T) {
		h := open(t)
		good := closed("k1", "u1", stageA, t0, time.Minute, "").ViewerSession
		good.UserAgent = "ua\xff\x00"
		bad := closed("k2", "evil\x00", stageA, t0, time.Minute, "").ViewerSession
		if err := h.SaveCheckpoint(ctx, ivslive.Checkpoint{TakenAt: t0, Sessions: []ivslive.ViewerSession{good, bad}}); err != nil {
			t.Fatal(err)
		}
		c, err := h.LoadCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Sessions) != 1 || c.Sessions[0].ID != "k1" || c.Sessions[0].UserAgent != "ua\uFFFD" {
			t.Fatalf("checkpoint %+v: want k1 alone, its User-Agent made valid", c.Sessions)
		}
	})
}

func allDeadLetters(t *testing.T, h ivslive.HistoryStore) []ivslive.DeadLetter {
	t.Helper()
	letters, _, _, err := h.FindDeadLetters(context.Background(), ivslive.DeadLetterFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return letters
}
