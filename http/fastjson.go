package http

import (
	"bytes"
	"encoding/json"
	"sync"
)

// The heartbeat is the request ivslive answers most, and its body is always
// the same shape: a flat object of a few plain strings. Reading that shape,
// and writing its answer, by hand costs a fraction of encoding/json's
// reflection. Anything else (escapes, non-ASCII, other types, unknown or
// differently cased keys) goes to encoding/json, which gives the same
// result and the precise error; FuzzFastDecode and TestFastEncode hold the
// two paths equal.

// fastDecoder is a request type that can read the common shape of its body
// itself. decodeFast reports false, leaving the value zero, for anything it
// does not handle.
type fastDecoder interface {
	decodeFast(body []byte) bool
}

// scanFlatStrings reads body as a JSON object whose values are all strings
// of printable ASCII without escapes, calling set for each member (set
// reports false for a key it does not know). It reports whether body was
// exactly that.
func scanFlatStrings(body []byte, set func(key, value []byte) bool) bool {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return skipSpace(body, i+1) == len(body)
	}
	for {
		key, next, ok := plainString(body, i)
		if !ok {
			return false
		}
		i = skipSpace(body, next)
		if i >= len(body) || body[i] != ':' {
			return false
		}
		value, next, ok := plainString(body, skipSpace(body, i+1))
		if !ok || !set(key, value) {
			return false
		}
		i = skipSpace(body, next)
		if i >= len(body) {
			return false
		}
		switch body[i] {
		case ',':
			i = skipSpace(body, i+1)
		case '}':
			return skipSpace(body, i+1) == len(body)
		default:
			return false
		}
	}
}

// plainString reads a string literal at body[i] made of printable ASCII
// without escapes, returning its contents and the index after it.
func plainString(body []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(body) || body[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(body); j++ {
		switch c := body[j]; {
		case c == '"':
			return body[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func skipSpace(body []byte, i int) int {
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
		i++
	}
	return i
}

func (v *viewerRequest) decodeFast(body []byte) bool {
	ok := scanFlatStrings(body, func(key, value []byte) bool {
		switch string(key) {
		case "userId":
			v.UserID = string(value)
		case "stageArn":
			v.StageARN = string(value)
		case "participantId":
			v.ParticipantID = string(value)
		case "sessionId":
			v.SessionID = string(value)
		default:
			return false
		}
		return true
	})
	if !ok {
		*v = viewerRequest{}
	}
	return ok
}

// fastEncoder is an answer's data that can write itself as JSON, exactly
// as encoding/json (without HTML escaping) would.
type fastEncoder interface {
	appendJSON(b []byte) []byte
}

// appendString appends s as a JSON string the way encoding/json writes it
// with SetEscapeHTML(false): printable ASCII without quotes or backslashes
// goes as is; anything else takes encoding/json's path.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return appendStringSlow(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func (d heartbeatData) appendJSON(b []byte) []byte {
	b = append(b, `{"userId":`...)
	b = appendString(b, d.UserID)
	b = append(b, `,"stageArn":`...)
	b = appendString(b, d.StageARN)
	if d.HeartbeatUpdated {
		return append(b, `,"heartbeatUpdated":true}`...)
	}
	return append(b, `,"heartbeatUpdated":false}`...)
}

func appendStringSlow(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// quotedMessages caches the encoded envelope messages: a handful of
// constants (in Chinese, so never on appendString's fast path).
var quotedMessages sync.Map

func appendMessage(b []byte, msg string) []byte {
	if q, ok := quotedMessages.Load(msg); ok {
		return append(b, q.(string)...)
	}
	q := appendString(nil, msg)
	if len(msg) <= 64 {
		quotedMessages.Store(msg, string(q))
	}
	return append(b, q...)
}

// appendSuccess writes the success envelope of data, as encoding/json
// writes successEnvelope (newline included).
func appendSuccess(b []byte, data fastEncoder, timestamp, message string) []byte {
	b = append(b, `{"success":true,"data":`...)
	b = data.appendJSON(b)
	b = append(b, `,"timestamp":`...)
	b = appendString(b, timestamp)
	if message != "" {
		b = append(b, `,"message":`...)
		b = appendMessage(b, message)
	}
	return append(b, "}\n"...)
}
