package emulator

import (
	"encoding/base64"
	"net/http"
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

// listRecords answers a List operation over one map of stored records
// (stages, public keys, playback key pairs, encoder configurations): the
// model's maxResults and nextToken, the records in creation order, each
// turned into its summary and listed under key. Those operations differ
// only in these arguments.
func listRecords[T, S any](e *Emulator, r *http.Request, key string, records func() map[string]T, seqOf func(T) int64, summary func(T) S) (any, error) {
	var in struct {
		MaxResults *int    `json:"maxResults"`
		NextToken  *string `json:"nextToken"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v validator
	v.page(e, in.MaxResults, 100, in.NextToken)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	page, next, err := paginate(key, sortedBySeq(records(), seqOf), seqOf, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	list := make([]S, 0, len(page))
	for _, rec := range page {
		list = append(list, summary(rec))
	}
	out := map[string]any{key: list}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}
