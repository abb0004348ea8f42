package http_test

import (
	"testing"

	"github.com/ivslive/ivslive/internal/apitest"
)

// A browser keeps its own presence with the session token alone: heartbeat
// and leave of its own session work without a key; every other use fails.
func TestSessionTokens(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	env.Must(t, 200, "POST", "/api/token/publisher", map[string]string{"userId": "host"})
	var v1, v2 struct {
		SessionToken string `json:"sessionToken"`
		SessionID    string `json:"sessionId"`
		StageARN     string `json:"stageArn"`
	}
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v1"}, "X-Api-Key", apitest.ViewerKey).Decode(t, &v1)
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v2"}).Decode(t, &v2)
	if v1.SessionToken == "" || v2.SessionToken == "" {
		t.Fatal("no sessionToken in the viewer-token answer")
	}
	bearer := func(tok string) []string { return []string{"X-Api-Key", "", "Authorization", "Bearer " + tok} }

	// Its own session: an empty body is enough, the token says who.
	env.Must(t, 200, "POST", "/api/viewer/heartbeat", map[string]string{}, bearer(v1.SessionToken)...)
	env.Must(t, 200, "POST", "/api/viewer/heartbeat", map[string]string{"userId": "v1", "stageArn": v1.StageARN}, bearer(v1.SessionToken)...)

	// Someone else's session, or any other route: refused.
	for _, c := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/api/viewer/heartbeat", map[string]string{"userId": "v2", "stageArn": v2.StageARN}, 403},
		{"POST", "/api/viewer/leave", map[string]string{"userId": "v2"}, 403},
		{"POST", "/api/viewer/heartbeat", map[string]string{"sessionId": v2.SessionID}, 403},
		{"POST", "/api/token/viewer", map[string]string{"userId": "v1"}, 403},
		{"POST", "/api/viewer/rejoin", map[string]string{"userId": "v1", "stageArn": v1.StageARN, "participantId": "p"}, 403},
		{"GET", "/api/stats", nil, 403},
		{"GET", "/api/viewer/duration?userId=v1&stageArn=" + v1.StageARN, nil, 403},
		{"POST", "/api/stage", map[string]string{"name": "x"}, 403},
	} {
		r := env.Do(t, c.method, c.path, c.body, bearer(v1.SessionToken)...)
		checkEnvelope(t, r, c.status, "")
	}
	for name, tok := range map[string]string{"forged": v1.SessionToken + "x", "garbage": "abc", "empty": ""} {
		r := env.Do(t, "POST", "/api/viewer/heartbeat", map[string]string{}, bearer(tok)...)
		checkEnvelope(t, r, 401, "UNAUTHORIZED")
		_ = name
	}
	// Leave with the token ends v1's session and only it.
	env.Must(t, 200, "POST", "/api/viewer/leave", map[string]string{}, bearer(v1.SessionToken)...)
	env.Must(t, 404, "POST", "/api/viewer/heartbeat", map[string]string{}, bearer(v1.SessionToken)...)
	env.Must(t, 200, "POST", "/api/viewer/heartbeat", map[string]string{}, bearer(v2.SessionToken)...)

	// After leaving and joining again, the old token cannot touch the new
	// session: it is bound to the session id.
	env.Must(t, 200, "POST", "/api/token/viewer", map[string]string{"userId": "v1"})
	env.Must(t, 404, "POST", "/api/viewer/heartbeat", map[string]string{}, bearer(v1.SessionToken)...)
}
