package http_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/ivslive/ivslive/internal/apitest"
)

// hostileBodies are bodies no client should send; every route must answer
// each with a 4xx (or a 2xx it can justify) in the envelope, never a 5xx.
func hostileBodies() map[string]string {
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	deepArr := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	return map[string]string{
		"null":             `null`,
		"array":            `[]`,
		"string":           `"userId"`,
		"number":           `42`,
		"nulls":            `{"userId":null,"stageArn":null,"participantId":null,"name":null,"tags":null,"serverId":null}`,
		"numbers":          `{"userId":1,"stageArn":2,"participantId":3,"name":4,"tags":5,"serverId":6,"sourceStageArn":7}`,
		"huge numbers":     `{"userId":1e400,"stageArn":99999999999999999999999999999,"name":-1e308}`,
		"booleans":         `{"userId":true,"stageArn":false,"name":true,"disconnect":"yes"}`,
		"objects":          `{"userId":{"$gt":""},"stageArn":{"a":[1,2]},"tags":{"k":{"n":1}}}`,
		"arrays":           `{"userId":["a"],"stageArn":["arn:aws:ivs:us-east-1:123456789012:stage/x"]}`,
		"deep object":      deep,
		"deep array":       deepArr,
		"invalid utf8":     "{\"userId\":\"\xff\xfe\xfd\",\"name\":\"\xc3\x28\",\"stageArn\":\"\xed\xa0\x80\"}",
		"nul bytes":        "{\"userId\":\"a\\u0000b\",\"name\":\"x\\u0000\"}",
		"sql injection":    `{"userId":"x'; DROP TABLE viewer_sessions; --","name":"a' OR '1'='1","stageArn":"arn:aws:ivs:us-east-1:123456789012:stage/x' OR 1=1--"}`,
		"script injection": `{"userId":"<script>alert(1)</script>","name":"<img src=x onerror=alert(1)>","serverId":"{{7*7}}"}`,
		"path traversal":   `{"userId":"../../etc/passwd","stageArn":"arn:aws:ivs:us-east-1:123456789012:stage/../../x","name":"..%2f.."}`,
		"long strings":     `{"userId":"` + strings.Repeat("u", 100000) + `","name":"` + strings.Repeat("n", 100000) + `","participantId":"` + strings.Repeat("p", 100000) + `"}`,
		"many tags":        `{"name":"ok","tags":{` + manyTags() + `}}`,
		"duplicate keys":   `{"userId":"a","userId":{"x":1}}`,
		"trailing garbage": `{"userId":"a"}garbage`,
		"unclosed":         `{"userId":"a"`,
		"bom":              "\ufeff{\"userId\":\"a\"}",
		"10 MB":            `{"userId":"` + strings.Repeat("x", 10<<20) + `"}`,
		"emoji":            `{"userId":"👀🚀","name":"名前","stageArn":"ａｒｎ"}`,
	}
}

func manyTags() string {
	var b strings.Builder
	for i := 0; i < 200; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("k", i) + `":"v"`)
	}
	return b.String()
}

// hostileSegments stand in for path parameters and query values.
var hostileSegments = []string{
	"nope", "arn:aws:ivs:us-east-1:123456789012:stage/ok", "arn%3Aaws%3Aivs%3Aus-east-1%3A123456789012%3Astage%2Fnothere",
	"%00", "%ff%fe", "..%2f..%2fetc%2fpasswd", "%3Cscript%3E", strings.Repeat("a", 5000), "%2A", "'%20OR%201%3D1",
}

// TestHostileInputNeverFails sends the corpus to every route (with an admin
// key, so requests reach the handlers) and requires no 5xx and a well-formed
// envelope every time.
func TestHostileInputNeverFails(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of requests")
	}
	env := apitest.New(t, apitest.Options{})
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v"})
	bodies := hostileBodies()
	sent := 0
	for _, pattern := range env.Server.Patterns() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || path == "/ivs/" || path == "/{$}" || path == "/ws" || path == "/metrics" || path == "/docs/" || path == "/dashboard/" || strings.HasPrefix(path, "/demo/") {
			continue // no method (catch-all, emulator), or pages and streams that are not JSON by design
		}
		var paths []string
		if strings.Contains(path, "{") {
			for _, seg := range hostileSegments {
				paths = append(paths, replaceParams(path, seg))
			}
		} else {
			paths = append(paths, path)
		}
		for _, p := range paths {
			for _, q := range []string{"", "?limit=-1&days=1e9&nextToken=%ff&force=maybe&userId=%00&stageArn=x&arn=%2e%2e", "?limit=1&limit=2"} {
				if method == "GET" || method == "DELETE" {
					sent++
					check(t, env, method, p+q, nil)
				}
				if method != "GET" {
					for name, body := range bodies {
						sent++
						if r := check(t, env, method, p+q, body); t.Failed() {
							t.Fatalf("%s %s with %s: %s", method, p+q, name, truncate(r))
						}
					}
				}
			}
		}
	}
	t.Logf("%d hostile requests, no 5xx", sent)
}

func replaceParams(path, seg string) string {
	for {
		i := strings.Index(path, "{")
		if i < 0 {
			return path
		}
		j := strings.Index(path[i:], "}")
		path = path[:i] + seg + path[i+j+1:]
	}
}

func check(t *testing.T, env *apitest.Env, method, path string, body any) *apitest.Response {
	t.Helper()
	if _, err := url.Parse(env.URL + path); err != nil {
		return &apitest.Response{}
	}
	var r *apitest.Response
	if s, ok := body.(string); ok {
		r = env.Do(t, method, path, []byte(s))
	} else {
		r = env.Do(t, method, path, body)
	}
	if r.Status >= 500 {
		t.Errorf("%s %s: status %d: %s", method, path, r.Status, truncate(r))
	}
	if r.Status >= 400 && (r.Success || r.Error.Code == "" || !timestampRE.MatchString(r.Timestamp)) {
		t.Errorf("%s %s: status %d without a well-formed error envelope: %s", method, path, r.Status, truncate(r))
	}
	if r.Status < 400 && !json.Valid(r.Raw) {
		t.Errorf("%s %s: status %d with a body that is not JSON", method, path, r.Status)
	}
	return r
}

func truncate(r *apitest.Response) string {
	if len(r.Raw) > 300 {
		return string(r.Raw[:300]) + "…"
	}
	return string(r.Raw)
}
