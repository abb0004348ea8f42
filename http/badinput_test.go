package http_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ivslive/ivslive/internal/apitest"
)

var timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// checkEnvelope asserts a well-formed error envelope with the given status.
func checkEnvelope(t *testing.T, r *apitest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if r.Success || r.Error.Code == "" || r.Error.Message == "" || !timestampRE.MatchString(r.Timestamp) {
		t.Errorf("not an error envelope: %s", r.Raw)
	}
	if code != "" && r.Error.Code != code {
		t.Errorf("code %q, want %q: %s", r.Error.Code, code, r.Raw)
	}
}

func TestBadInputGetsFourHundreds(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	master := esc(env.Live.MasterARN())
	huge := `{"userId":"` + strings.Repeat("x", 2<<20) + `"}`
	type tc struct {
		name, method, path string
		body               any
		status             int
		code               string
		headers            []string
	}
	cases := []tc{
		{"unknown route", "GET", "/api/nope", nil, 404, "NOT_FOUND", nil},
		{"unknown route outside api", "GET", "/nope", nil, 404, "NOT_FOUND", nil},
		{"no key", "GET", "/api/stats", nil, 401, "UNAUTHORIZED", []string{"X-Api-Key", ""}},
		{"wrong key", "GET", "/api/stats", nil, 401, "UNAUTHORIZED", []string{"X-Api-Key", "nope"}},
		{"unknown route without key", "GET", "/api/nope", nil, 401, "UNAUTHORIZED", []string{"X-Api-Key", ""}},
		{"unencoded arn", "GET", "/api/stage/arn:aws:ivs:us-east-1:123456789012:stage/abc", nil, 404, "NOT_FOUND", nil},
		{"not an arn", "GET", "/api/stage/hello", nil, 400, "VALIDATION_ERROR", nil},
		{"unknown stage", "GET", "/api/stage/" + esc("arn:aws:ivs:us-east-1:123456789012:stage/nothere"), nil, 404, "NOT_FOUND", nil},
		{"put unknown stage", "PUT", "/api/stage/" + esc("arn:aws:ivs:us-east-1:123456789012:stage/nothere"), map[string]string{"name": "x"}, 404, "NOT_FOUND", nil},
		{"delete bad force", "DELETE", "/api/stage/" + master + "?force=maybe", nil, 400, "VALIDATION_ERROR", nil},
		{"list bad limit", "GET", "/api/stage/list?limit=0", nil, 400, "VALIDATION_ERROR", nil},
		{"list huge limit", "GET", "/api/stage/list?limit=99999999999999999999", nil, 400, "VALIDATION_ERROR", nil},
		{"list bad cursor", "GET", "/api/stage/list?nextToken=***", nil, 400, "VALIDATION_ERROR", nil},
		{"list repeated limit", "GET", "/api/stage/list?limit=1&limit=2", nil, 400, "VALIDATION_ERROR", nil},
	}
	posts := []struct {
		path   string
		fields []string
	}{
		{"/api/token/publisher", []string{"userId"}},
		{"/api/token/viewer", []string{"userId"}},
		{"/api/stage", []string{"name"}},
		{"/api/stage/replication/start", []string{"sourceStageArn", "destinationStageArn", "participantId"}},
		{"/api/viewer/rejoin", []string{"userId", "stageArn", "participantId"}},
		{"/api/viewer/heartbeat", []string{"userId", "stageArn"}},
		{"/api/viewer/leave", []string{"userId", "stageArn"}},
	}
	for _, p := range posts {
		cases = append(cases,
			tc{p.path + " empty body", "POST", p.path, "", 400, "VALIDATION_ERROR", nil},
			tc{p.path + " empty object", "POST", p.path, map[string]any{}, 400, "VALIDATION_ERROR", nil},
			tc{p.path + " malformed", "POST", p.path, `{"userId":`, 400, "VALIDATION_ERROR", nil},
			tc{p.path + " not an object", "POST", p.path, `["userId"]`, 400, "VALIDATION_ERROR", nil},
			tc{p.path + " trailing data", "POST", p.path, `{} {}`, 400, "VALIDATION_ERROR", nil},
			tc{p.path + " oversize", "POST", p.path, huge, 413, "PAYLOAD_TOO_LARGE", nil},
			tc{p.path + " xml", "POST", p.path, `<a/>`, 415, "UNSUPPORTED_MEDIA_TYPE", []string{"Content-Type", "application/xml"}},
		)
		for _, f := range p.fields {
			cases = append(cases,
				tc{p.path + " " + f + " number", "POST", p.path, map[string]any{f: 123}, 400, "VALIDATION_ERROR", nil},
				tc{p.path + " " + f + " object", "POST", p.path, map[string]any{f: map[string]any{"a": 1}}, 400, "VALIDATION_ERROR", nil},
				tc{p.path + " " + f + " null", "POST", p.path, map[string]any{f: nil}, 400, "VALIDATION_ERROR", nil},
				tc{p.path + " " + f + " true", "POST", p.path, map[string]any{f: true}, 400, "VALIDATION_ERROR", nil},
			)
		}
	}
	cases = append(cases,
		tc{"stage tags wrong type", "POST", "/api/stage", map[string]any{"name": "x", "tags": "a"}, 400, "VALIDATION_ERROR", nil},
		tc{"stage tag value number", "POST", "/api/stage", map[string]any{"name": "x", "tags": map[string]any{"a": 1}}, 400, "VALIDATION_ERROR", nil},
		tc{"stage bad name", "POST", "/api/stage", map[string]any{"name": "no spaces"}, 400, "VALIDATION_ERROR", nil},
		tc{"stage long name", "POST", "/api/stage", map[string]any{"name": strings.Repeat("a", 129)}, 400, "VALIDATION_ERROR", nil},
		tc{"publisher long user", "POST", "/api/token/publisher", map[string]any{"userId": strings.Repeat("a", 200)}, 400, "VALIDATION_ERROR", nil},
		tc{"mediaserver bad arn", "POST", "/api/token/mediaserver", map[string]any{"serverId": "a", "stageArn": "x"}, 400, "VALIDATION_ERROR", []string{"X-Internal-Secret", "internal-secret"}},
		tc{"mediaserver missing", "POST", "/api/token/mediaserver", map[string]any{}, 400, "VALIDATION_ERROR", []string{"X-Internal-Secret", "internal-secret"}},
		tc{"replication same stage", "POST", "/api/stage/replication/start", map[string]any{"sourceStageArn": env.Live.MasterARN(), "destinationStageArn": env.Live.MasterARN(), "participantId": "p"}, 400, "VALIDATION_ERROR", nil},
		tc{"replication bad participant", "POST", "/api/stage/replication/start", map[string]any{"sourceStageArn": env.Live.MasterARN(), "destinationStageArn": "arn:aws:ivs:us-east-1:123456789012:stage/other", "participantId": "a_b"}, 400, "VALIDATION_ERROR", nil},
		tc{"replication unknown stage", "POST", "/api/stage/replication/start", map[string]any{"sourceStageArn": env.Live.MasterARN(), "destinationStageArn": "arn:aws:ivs:us-east-1:123456789012:stage/other", "participantId": "ab"}, 404, "NOT_FOUND", nil},
		tc{"replication stop body", "DELETE", "/api/stage/replication/stop", `{"sourceStageArn":1}`, 400, "VALIDATION_ERROR", nil},
		tc{"replication status bad arn", "GET", "/api/stage/replication/status/nope", nil, 400, "VALIDATION_ERROR", nil},
		tc{"viewer stage not managed", "POST", "/api/viewer/rejoin", map[string]any{"userId": "u", "stageArn": "arn:aws:ivs:us-east-1:123456789012:stage/other", "participantId": "p"}, 404, "NOT_FOUND", nil},
		tc{"heartbeat unknown viewer", "POST", "/api/viewer/heartbeat", map[string]any{"userId": "u", "stageArn": env.Live.MasterARN()}, 404, "NOT_FOUND", nil},
		tc{"viewer list bad arn", "GET", "/api/viewer/list/nope", nil, 400, "VALIDATION_ERROR", nil},
		tc{"duration missing", "GET", "/api/viewer/duration?userId=u", nil, 400, "VALIDATION_ERROR", nil},
		tc{"duration repeated", "GET", "/api/viewer/duration?userId=u&userId=v&stageArn=" + master, nil, 400, "VALIDATION_ERROR", nil},
		tc{"stats bad arn", "GET", "/api/stats/stages?arn=nope", nil, 400, "VALIDATION_ERROR", nil},
		tc{"stats full arn as id", "GET", "/api/stats/stages/arn:aws:ivs", nil, 400, "VALIDATION_ERROR", nil},
		tc{"stats unknown id", "GET", "/api/stats/stages/nothere", nil, 404, "NOT_FOUND", nil},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(t, c.method, c.path, c.body, c.headers...)
			checkEnvelope(t, r, c.status, c.code)
		})
	}
}

func TestNoPublisherMeansNoViewerToken(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	r := env.Do(t, "POST", "/api/token/viewer", map[string]string{"userId": "v"})
	checkEnvelope(t, r, 404, "NOT_FOUND")
	if r.Error.Message != "主播直播不存在" {
		t.Errorf("message %q", r.Error.Message)
	}
}
