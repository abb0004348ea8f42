package emulator

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// defaultPageSize is the model's default maxResults for every List operation.
const defaultPageSize = 50

// encodePageToken makes an opaque nextToken that resumes after seq. The kind
// prefix stops a token of one List operation from being replayed on another.
func encodePageToken(kind string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(seq, 10)))
}

func decodePageToken(kind, token string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, validationErr("invalid nextToken")
	}
	rest, ok := strings.CutPrefix(string(raw), kind+":")
	if !ok {
		return 0, validationErr("invalid nextToken")
	}
	seq, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || seq < 0 {
		return 0, validationErr("invalid nextToken")
	}
	return seq, nil
}

// paginate returns one page of items (sorted by ascending seq) and the token
// for the next page, or "" on the last page. Resuming by seq rather than by
// offset keeps pages stable while items are deleted between calls.
func paginate[T any](kind string, items []T, seqOf func(T) int64, maxResults *int, nextToken *string) ([]T, string, error) {
	size := defaultPageSize
	if maxResults != nil {
		size = *maxResults
	}
	start := 0
	if nextToken != nil && *nextToken != "" {
		after, err := decodePageToken(kind, *nextToken)
		if err != nil {
			return nil, "", err
		}
		for start < len(items) && seqOf(items[start]) <= after {
			start++
		}
	}
	end := min(start+size, len(items))
	page := items[start:end]
	if end < len(items) {
		return page, encodePageToken(kind, seqOf(items[end-1])), nil
	}
	return page, "", nil
}
