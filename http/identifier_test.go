package http_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/internal/apitest"
)

// Identifiers that reach storage are refused with a 400 naming the field
// when they hold a control character or are not UTF-8: the record they
// would make is one PostgreSQL refuses.
func TestControlCharactersInIdentifiersAreRefused(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	master := env.Live.MasterARN()
	secret := []string{"X-Internal-Secret", "internal-secret"}
	cases := []struct {
		name, method, path string
		body               any
		field              string
		headers            []string
	}{
		{"publisher NUL", "POST", "/api/token/publisher", `{"userId":"evil\u0000"}`, "userId", nil},
		{"viewer NUL", "POST", "/api/token/viewer", `{"userId":"evil\u0000"}`, "userId", nil},
		{"viewer escape sequence", "POST", "/api/token/viewer", `{"userId":"red\u001b[31m"}`, "userId", nil},
		{"viewer C1 control", "POST", "/api/token/viewer", `{"userId":"a\u0085b"}`, "userId", nil},
		{"viewer form NUL", "POST", "/api/token/viewer", "userId=evil%00", "userId", []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{"mediaserver NUL", "POST", "/api/token/mediaserver", `{"serverId":"relay\u0000","stageArn":"` + master + `"}`, "serverId", secret},
		{"rejoin user", "POST", "/api/viewer/rejoin", `{"userId":"v\u0007","stageArn":"` + master + `","participantId":"p1"}`, "userId", nil},
		{"rejoin participant", "POST", "/api/viewer/rejoin", `{"userId":"v","stageArn":"` + master + `","participantId":"p\u0000"}`, "participantId", nil},
		{"history path NUL", "GET", "/api/viewer/history/evil%00", nil, "userId", nil},
		{"history path not UTF-8", "GET", "/api/viewer/history/caf%E9", nil, "userId", nil},
		{"stage tag value", "POST", "/api/stage", `{"name":"tagged","tags":{"team":"a\u0000"}}`, "tags.team", nil},
		{"stage tag key", "POST", "/api/stage", `{"name":"tagged","tags":{"te\u0000am":"a"}}`, "tags", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(t, c.method, c.path, c.body, c.headers...)
			checkEnvelope(t, r, 400, "VALIDATION_ERROR")
			if !strings.HasPrefix(r.Error.Message, c.field+" ") {
				t.Errorf("message %q does not name %s", r.Error.Message, c.field)
			}
		})
	}
	// Printable non-ASCII is an identifier like any other.
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "觀眾-é"})
}

// A User-Agent longer than what a session keeps is cut on a rune
// boundary: the record stays valid UTF-8 all the way to history.
func TestUserAgentIsCutOnARuneBoundary(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	ua := strings.Repeat("a", ivslive.MaxUserAgent-1) + "é and more"
	var tok viewerToken
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v1"}, "User-Agent", ua).Decode(t, &tok)
	live, err := env.Presence.Session(context.Background(), tok.StageARN, "v1")
	if err != nil || live.UserAgent != ua[:ivslive.MaxUserAgent-1] {
		t.Fatalf("live session's User-Agent %q (%d bytes), %v: want it cut before presence", live.UserAgent, len(live.UserAgent), err)
	}
	env.Must(t, 200, "POST", "/api/viewer/leave", map[string]string{"userId": "v1", "stageArn": tok.StageARN})
	var page struct {
		History []struct {
			UserAgent string `json:"userAgent"`
		} `json:"history"`
	}
	env.Must(t, 200, "GET", "/api/viewer/history/v1", nil).Decode(t, &page)
	if len(page.History) != 1 {
		t.Fatalf("history %+v", page)
	}
	if got := page.History[0].UserAgent; !utf8.ValidString(got) || got != ua[:ivslive.MaxUserAgent-1] {
		t.Fatalf("stored User-Agent %q (%d bytes): want the first %d bytes, valid UTF-8", got, len(got), ivslive.MaxUserAgent-1)
	}
}
