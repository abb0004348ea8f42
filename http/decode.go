package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ivslive/ivslive"
)

// decode reads a request body into dst, a pointer to a struct with JSON tags.
// It is the one place input is read: the body is size-limited, JSON is strict
// about types (a wrong type names the field), and form-encoded bodies, which
// the Node server accepted, are taken for string fields. Unknown fields are
// ignored, as the Node server did. A request type with a check method (its
// required fields) is checked here too, so handlers read it whole or not at all.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, dst any) error {
	ct := r.Header.Get("Content-Type")
	mt := ct
	if ct != "application/json" { // the usual case, without parsing
		mt, _, _ = mime.ParseMediaType(ct)
	}
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	isForm := mt == "application/x-www-form-urlencoded"
	if ct != "" && !isJSON && !isForm {
		return ivslive.Errorf(ivslive.EMEDIATYPE, "Content-Type must be application/json")
	}
	buf, _ := s.readBuffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			s.readBuffers.Put(buf)
		}
	}()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.Config.MaxBodyBytes))
	body := buf.Bytes()
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return ivslive.Errorf(ivslive.ETOOLARGE, "request body is larger than %d bytes", s.Config.MaxBodyBytes)
		}
		return ivslive.WrapError(ivslive.EVALIDATION, "could not read the request body", err)
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		trimmed = []byte("{}")
	case isForm && trimmed[0] != '{':
		// curl -d sends form encoding by default; a JSON body is still JSON.
		if trimmed, err = formToJSON(trimmed); err != nil {
			return err
		}
	}
	if fd, ok := dst.(fastDecoder); !ok || !fd.decodeFast(trimmed) {
		if err := decodeJSON(trimmed, dst); err != nil {
			return err
		}
	}
	if c, ok := dst.(checker); ok {
		return c.check()
	}
	return nil
}

// checker is a request type that knows its required fields.
type checker interface {
	check() error
}

// bind decodes r's body into dst as decode does and answers the client when
// that fails; it reports whether the handler goes on. It is every body-taking
// handler's preamble.
func (s *Server) bind(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := s.decode(w, r, dst); err != nil {
		s.Error(w, r, err)
		return false
	}
	return true
}

func decodeJSON(body []byte, dst any) error {
	if body[0] != '{' {
		return ivslive.Errorf(ivslive.EVALIDATION, "request body must be a JSON object")
	}
	// Unmarshal also refuses data after the object.
	if err := json.Unmarshal(body, dst); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError turns a decoding error into a client-facing validation error.
func jsonError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return ivslive.Errorf(ivslive.EVALIDATION, "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return ivslive.Errorf(ivslive.EVALIDATION, "%s must be %s", field, kind(typ.Type.String())).
			WithDetails(fieldDetails{Field: field, Got: typ.Value})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ivslive.Errorf(ivslive.EVALIDATION, "malformed JSON: unexpected end of input")
	default:
		return ivslive.WrapError(ivslive.EVALIDATION, "malformed JSON", err)
	}
}

func kind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "map["):
		return "an object of strings"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	default:
		return "a " + goType
	}
}

func formToJSON(body []byte) ([]byte, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, ivslive.Errorf(ivslive.EVALIDATION, "malformed form body")
	}
	m := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) != 1 {
			return nil, ivslive.Errorf(ivslive.EVALIDATION, "%s must be given once", k)
		}
		m[k] = v[0]
	}
	return json.Marshal(m)
}

// missing returns the Node server's validation error for absent required
// fields, or nil when every field is present.
func missing(message string, fields map[string]string, order ...string) error {
	var absent []string
	for _, f := range order {
		if fields[f] == "" {
			absent = append(absent, f)
		}
	}
	if len(absent) == 0 {
		return nil
	}
	return ivslive.Errorf(ivslive.EVALIDATION, "%s", message).WithDetails(missingDetails{MissingFields: absent})
}

// query returns a single query parameter; repeating it is an error.
func query(r *http.Request, name string) (string, error) {
	vals := r.URL.Query()[name]
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	default:
		return "", ivslive.Errorf(ivslive.EVALIDATION, "query parameter %s must be given once", name)
	}
}

// queryInt parses an optional integer query parameter within [min, max].
// page reads a list's cursor parameters: nextToken, and limit (1–100,
// default def).
func page(r *http.Request, def int) (after string, limit int, err error) {
	if limit, err = queryInt(r, "limit", def, 1, 100); err != nil {
		return "", 0, err
	}
	after, err = query(r, "nextToken")
	return after, limit, err
}

func queryInt(r *http.Request, name string, def, min, max int) (int, error) {
	v, err := query(r, name)
	if err != nil || v == "" {
		return def, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, ivslive.Errorf(ivslive.EVALIDATION, "%s must be an integer from %d to %d", name, min, max)
	}
	return n, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// fieldDetails names the field of a JSON value of the wrong type and the
// kind of value sent (shown in development).
type fieldDetails struct {
	Field string `json:"field"`
	Got   string `json:"got"`
}

// missingDetails lists required fields that were absent or empty, as the
// Node server's sendValidationError did.
type missingDetails struct {
	MissingFields []string `json:"missingFields"`
}
