package http_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ivslive/ivslive/internal/apitest"
)

// FuzzAPI throws arbitrary methods, paths, queries and bodies at the whole
// handler stack (routing, auth, decoding, validation, the core): whatever
// comes in, errors are well-formed envelopes and the only 5xx are the
// capacity answers the fuzzer earns by filling the pool (STAGE_FULL,
// STAGE_LIMIT_REACHED), never an internal error.
// Run longer with: go test -run '^$' -fuzz FuzzAPI -fuzztime 10m ./http
func FuzzAPI(f *testing.F) {
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"}
	for _, seed := range []struct {
		m          uint8
		path, body string
	}{
		{1, "/api/token/viewer", `{"userId":"v1"}`},
		{1, "/api/token/publisher", `{"userId":"h"}`},
		{1, "/api/viewer/heartbeat", `{"userId":"v1","stageArn":"arn:aws:ivs:us-east-1:123456789012:stage/abc"}`},
		{1, "/api/viewer/rejoin", `{"userId":"v1","stageArn":"arn:aws:ivs:us-east-1:123456789012:stage/abc","participantId":"p"}`},
		{0, "/api/stage/arn%3Aaws%3Aivs%3Aus-east-1%3A123456789012%3Astage%2Fabc", ``},
		{2, "/api/stage/x", `{"name":"n"}`},
		{3, "/api/stage/replication/stop", `{"sourceStageArn":1}`},
		{0, "/api/viewer/history/u?limit=5&nextToken=abc", ``},
		{0, "/api/viewer/stats/%2A?days=3", ``},
		{0, "/api/stats/stages?arn=x", ``},
		{1, "/api/stage", `{"name":"a","tags":{"k":"v"}}`},
		{1, "/api/stage/replication/start", `{"sourceStageArn":"a","destinationStageArn":"b","participantId":"c"}`},
	} {
		f.Add(seed.m, seed.path, seed.body)
	}
	env := apitest.New(f, apitest.Options{})
	h := env.Server.Handler()
	f.Fuzz(func(t *testing.T, m uint8, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/ivs/") || strings.HasPrefix(path, "/ws") {
			return
		}
		req, err := http.NewRequest(methods[int(m)%len(methods)], "http://ivslive.test"+path, bytes.NewBufferString(body))
		if err != nil {
			return // not a request a server could receive
		}
		req.RemoteAddr = "192.0.2.10:1234"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", apitest.Key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && !strings.Contains(rec.Body.String(), `"STAGE_FULL"`) && !strings.Contains(rec.Body.String(), `"STAGE_LIMIT_REACHED"`) {
			t.Fatalf("%s %s %q: %d %s", req.Method, path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && req.Method != "HEAD" {
			var e struct {
				Success bool `json:"success"`
				Error   struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Success || e.Error.Code == "" {
				t.Fatalf("%s %s: %d without an error envelope: %s", req.Method, path, rec.Code, rec.Body.String())
			}
		}
	})
}
