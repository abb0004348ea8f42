package cursor_test

import (
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/cursor"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)
	got, key, err := cursor.Decode(cursor.Encode(at, "arn:aws:ivs:us-east-1:1:stage/a|b"))
	if err != nil || !got.Equal(at) || key != "arn:aws:ivs:us-east-1:1:stage/a|b" {
		t.Fatalf("round trip: %v %q %v", got, key, err)
	}
}

// FuzzDecode: any client-supplied cursor either decodes or is a validation
// error; a decoded cursor encodes back to itself.
func FuzzDecode(f *testing.F) {
	f.Add(cursor.Encode(time.Unix(1_800_000_000, 0), "k"))
	f.Add("")
	f.Add("!!")
	f.Add("MTIzfA")
	f.Fuzz(func(t *testing.T, c string) {
		at, key, err := cursor.Decode(c)
		if err != nil {
			if ivslive.ErrorCode(err) != ivslive.EVALIDATION {
				t.Fatalf("Decode(%q): %v, want a validation error", c, err)
			}
			return
		}
		if again, k2, err := cursor.Decode(cursor.Encode(at, key)); err != nil || !again.Equal(at) || k2 != key {
			t.Fatalf("Decode(%q) = %v %q does not round-trip", c, at, key)
		}
	})
}
