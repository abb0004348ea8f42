package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/ivslive/ivslive"
)

// timeFormat is the envelope's timestamp: JavaScript's toISOString().
const timeFormat = "2006-01-02T15:04:05.000Z"

// Header values every JSON answer carries, shared (never modified).
var (
	contentTypeJSON = []string{"application/json; charset=utf-8"}
	noStore         = []string{"no-store"}
)

type successEnvelope struct {
	Success   bool   `json:"success"`
	Data      any    `json:"data"`
	Timestamp string `json:"timestamp"`
	Message   string `json:"message,omitempty"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

type errorEnvelope struct {
	Success   bool      `json:"success"`
	Data      any       `json:"data,omitempty"`
	Error     errorBody `json:"error"`
	Timestamp string    `json:"timestamp"`
}

// respond writes data in the success envelope.
func (s *Server) respond(w http.ResponseWriter, status int, data any, message string) {
	s.writeJSON(w, status, successEnvelope{Success: true, Data: data, Timestamp: s.timestamp(), Message: message})
}

// Error writes err in the error envelope with the status its code maps to.
// Internal errors are logged with their cause; clients see only the code and
// the safe message (and details in development).
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	s.errorWithData(w, r, err, nil)
}

func (s *Server) errorWithData(w http.ResponseWriter, r *http.Request, err error, data any) {
	code := ivslive.ErrorCode(err)
	status := StatusOf(code)
	if status >= 500 {
		s.Log.Error("request failed", "code", code, "err", err, "method", r.Method, "path", r.URL.Path, "requestId", RequestID(r.Context()))
	}
	body := errorBody{Code: code, Message: Message(err)}
	if s.Config.Development {
		body.Details = ivslive.ErrorDetails(err)
	}
	var limited *ivslive.Error
	if errors.As(err, &limited) && code == ivslive.ERATELIMIT {
		if d, ok := limited.Details.(RetryAfter); ok {
			w.Header().Set("Retry-After", d.Seconds())
			body.Details = retryDetails{RetryAfterSeconds: d.Seconds()}
			if !s.Config.Development {
				body.Details = nil
			}
		}
	}
	s.writeJSON(w, status, errorEnvelope{Success: false, Data: data, Error: body, Timestamp: s.timestamp()})
}

// retryDetails is a rate-limit error's details in development.
type retryDetails struct {
	RetryAfterSeconds string `json:"retryAfterSeconds"`
}

// RetryAfter is the details of a rate-limit error: when to come back.
type RetryAfter time.Duration

// Seconds formats the wait for the Retry-After header, rounded up.
func (d RetryAfter) Seconds() string {
	secs := (time.Duration(d) + time.Second - 1) / time.Second
	if secs < 1 {
		secs = 1
	}
	return itoa(int64(secs))
}

// StatusOf maps an error code to its HTTP status; the one place that does.
func StatusOf(code string) int {
	switch code {
	case ivslive.EVALIDATION:
		return http.StatusBadRequest
	case ivslive.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case ivslive.EFORBIDDEN:
		return http.StatusForbidden
	case ivslive.ENOTFOUND:
		return http.StatusNotFound
	case ivslive.EMETHOD:
		return http.StatusMethodNotAllowed
	case ivslive.ECONFLICT, ivslive.EQUOTA:
		return http.StatusConflict
	case ivslive.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case ivslive.EMEDIATYPE:
		return http.StatusUnsupportedMediaType
	case ivslive.ERATELIMIT:
		return http.StatusTooManyRequests
	case ivslive.ESTAGEFULL, ivslive.ESTAGELIMIT, ivslive.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	buf, _ := s.buffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			s.buffers.Put(buf)
		}
	}()
	if err := encodeBody(buf, v); err != nil {
		s.Log.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"success":false,"error":{"code":"INTERNAL_ERROR","message":"內部伺服器錯誤"},"timestamp":"` + s.timestamp() + "\"}\n")
	}
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Cache-Control"] = noStore
	h["Content-Length"] = []string{itoa(int64(buf.Len()))}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// encodeBody writes v as JSON and a newline: by hand for the answers that
// can (see fastjson.go), with encoding/json for the rest.
func encodeBody(buf *bytes.Buffer, v any) error {
	if env, ok := v.(successEnvelope); ok {
		if d, ok := env.Data.(fastEncoder); ok {
			buf.Write(appendSuccess(buf.AvailableBuffer(), d, env.Timestamp, env.Message))
			return nil
		}
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false) // "<" stays "<": the bodies are JSON, not HTML
	return enc.Encode(v)
}

// timestamp formats the current time for the envelope, reusing the string
// while the millisecond has not changed (many answers share one under load).
func (s *Server) timestamp() string {
	now := s.now()
	ms := now.UnixMilli()
	if c := s.stamp.Load(); c != nil && c.ms == ms {
		return c.text
	}
	text := now.UTC().Format(timeFormat)
	s.stamp.Store(&stamp{ms: ms, text: text})
	return text
}

type stamp struct {
	ms   int64
	text string
}

func isoTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// optionalTime formats t, or returns nil (JSON null) for the zero time.
func optionalTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return isoTime(t)
}
