package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/ivslive/ivslive/internal/apitest"
)

// checker sends requests to a test server and checks each request and each
// answer against the document. It records the operations that answered a
// validated success, for the coverage check.
type checker struct {
	env    *apitest.Env
	doc    *openapi3.T
	router routers.Router
	passed map[string]bool // "METHOD /path" as in the document
}

func newChecker(t *testing.T, env *apitest.Env, doc *openapi3.T) *checker {
	t.Helper()
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return &checker{env: env, doc: doc, router: router, passed: map[string]bool{}}
}

// answer is what the server sent.
type answer struct {
	Status int
	Header http.Header
	Raw    []byte
	Data   json.RawMessage
}

// decode unmarshals the envelope's data into v.
func (a *answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", a.Data, err)
	}
}

// do sends a request the document must accept and checks that the server
// answers status with an answer the document describes. body is nil, a
// string sent as is, or a value sent as JSON; headers are name/value pairs,
// an empty value removing the header. Without an x-api-key among headers, the
// key of the scope the document names for the operation is sent, so a wrong
// scope in the document shows as a 403.
func (c *checker) do(t *testing.T, status int, method, path string, body any, headers ...string) *answer {
	t.Helper()
	return c.send(t, true, status, method, path, body, headers)
}

// reject is do for a request the document must refuse too (malformed JSON,
// a missing key, a value out of range): the server and the document agree
// on what is invalid. The answer is still checked against the document.
func (c *checker) reject(t *testing.T, status int, method, path string, body any, headers ...string) *answer {
	t.Helper()
	return c.send(t, false, status, method, path, body, headers)
}

func (c *checker) send(t *testing.T, valid bool, status int, method, path string, body any, headers []string) *answer {
	t.Helper()
	name := method + " " + path
	if len(name) > 120 {
		name = name[:120] + "…"
	}
	var payload []byte
	switch b := body.(type) {
	case nil:
	case string:
		payload = []byte(b)
	default:
		payload, _ = json.Marshal(b)
	}
	newRequest := func() *http.Request {
		req, err := http.NewRequest(method, c.env.URL+path, bytes.NewReader(payload))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req
	}
	req := newRequest()
	route, params, routeErr := c.router.FindRoute(req)
	if routeErr == nil {
		if key := keyFor(route.Operation); key != "" {
			req.Header.Set("X-Api-Key", key)
		}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	if routeErr != nil {
		t.Fatalf("%s: the document has no operation for it: %v", name, routeErr)
	}
	// Path parameters are validated decoded: the patterns describe the ARN,
	// the client percent-encodes it.
	for k, v := range params {
		if d, err := url.PathUnescape(v); err == nil {
			params[k] = d
		}
	}
	vreq := newRequest()
	vreq.Header = req.Header.Clone()
	input := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: options()}
	reqErr := openapi3filter.ValidateRequest(context.Background(), input)
	switch {
	case valid && reqErr != nil:
		t.Errorf("%s: the document rejects a request the server is meant to take:\n%v", name, reqErr)
	case !valid && reqErr == nil:
		t.Errorf("%s: the document accepts a request the server refuses", name)
	}

	resp, err := c.env.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	a := &answer{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode != http.StatusSwitchingProtocols { // an upgraded connection has no end
		a.Raw, _ = io.ReadAll(resp.Body)
	}
	resp.Body.Close()
	if a.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", name, a.Status, status, a.Raw)
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(a.Raw, &env) == nil {
		a.Data = env.Data
	}

	if err := validateAnswer(input, a); err != nil {
		t.Errorf("%s: the answer does not match the document:\n%v\nanswer: %s", name, err, a.Raw)
	} else if valid && reqErr == nil && (a.Status/100 == 2 || a.Status == http.StatusSwitchingProtocols) {
		c.passed[route.Method+" "+route.Path] = true
	}
	return a
}

// options are the validation options of every check: statuses the document
// does not list fail, every mismatch is reported, and schema errors are one
// line each (the default dumps the whole schema and value).
func options() *openapi3filter.Options {
	o := &openapi3filter.Options{AuthenticationFunc: authenticate, IncludeResponseStatus: true, MultiError: true}
	o.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return "at /" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	})
	return o
}

// validateAnswer checks an answer against the operation of a request that
// was validated (or at least routed) with input.
func validateAnswer(input *openapi3filter.RequestValidationInput, a *answer) error {
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: input, Status: a.Status, Header: a.Header, Options: input.Options}
	out.SetBodyBytes(a.Raw)
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// keyFor returns the test key of the scope the operation's first requirement
// names, or "" for operations that need no key.
func keyFor(op *openapi3.Operation) string {
	if op.Security == nil {
		return ""
	}
	for _, req := range *op.Security {
		for _, scope := range req["apiKey"] {
			switch scope {
			case "admin":
				return apitest.Key
			case "read":
				return apitest.ReadKey
			case "viewer":
				return apitest.ViewerKey
			}
		}
	}
	return ""
}

// authenticate checks a security requirement the way the server does, as far
// as the document can say it: the key must be one of the test server's, with
// the scope the requirement names (or admin).
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	s := in.SecurityScheme
	var v string
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		v, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	case s.In == "header":
		v = r.Header.Get(s.Name)
	case s.In == "query":
		v = r.URL.Query().Get(s.Name)
	}
	if v == "" {
		return fmt.Errorf("no credential for %s", in.SecuritySchemeName)
	}
	if s.Type != "apiKey" || in.SecuritySchemeName == "internalSecret" {
		return nil // only the server can check a secret or a session token
	}
	scope, ok := map[string]string{apitest.Key: "admin", apitest.ReadKey: "read", apitest.ViewerKey: "viewer"}[v]
	if !ok {
		return fmt.Errorf("%q is not a key of the test server", v)
	}
	if scope != "admin" && !slices.Contains(in.Scopes, scope) {
		return fmt.Errorf("a %s key may not call this (needs %s)", scope, strings.Join(in.Scopes, " or "))
	}
	return nil
}
