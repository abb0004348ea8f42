// Package cursor encodes keyset-pagination cursors shared by the history
// twins: a position (time, then a tie-breaking key) as an opaque URL-safe
// string.
package cursor

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/ivslive/ivslive"
)

// Encode returns the cursor for the row at (t, key).
func Encode(t time.Time, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "|" + key))
}

// Decode parses a cursor from Encode. A malformed cursor is a validation
// error, since it comes from a client.
func Decode(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", invalid()
	}
	ts, key, ok := strings.Cut(string(b), "|")
	if !ok {
		return time.Time{}, "", invalid()
	}
	us, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, "", invalid()
	}
	return time.UnixMicro(us).UTC(), key, nil
}

func invalid() error {
	return ivslive.Errorf(ivslive.EVALIDATION, "nextToken is not a valid cursor")
}

// Page cuts rows, read with a limit of limit+1, to one page and returns the
// cursor of the next page ("" when rows held no more than limit). key gives
// a row's position.
func Page[T any](rows []T, limit int, key func(T) (time.Time, string)) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, Encode(key(rows[limit-1]))
}
