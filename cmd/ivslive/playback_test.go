package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ivslive/ivslive/internal/testenv"
)

// PLAYBACK_ENABLED wires the playback side into serve: past the one seat
// the answer is the channel, a private one with a token, and /metrics and
// /api/stats split the viewers.
func TestServePlayback(t *testing.T) {
	t.Run("memory", func(t *testing.T) { servePlayback(t, nil) })
	t.Run("redis", func(t *testing.T) {
		_, prefix := testenv.Redis(t)
		servePlayback(t, map[string]string{"REDIS_URL": testenv.RedisURL(), "REDIS_KEY_PREFIX": prefix})
	})
}

func servePlayback(t *testing.T, extra map[string]string) {
	t.Chdir(t.TempDir())
	env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "PLAYBACK_ENABLED": "true", "PLAYBACK_PRIVATE": "true",
		"MAX_VIEWERS_PER_STAGE": "1", "SCALE_UP_THRESHOLD": "1", "SCALE_DOWN_THRESHOLD": "0", "AUTO_SCALE_ENABLED": "false"}
	for k, v := range extra {
		env[k] = v
	}
	s := start(t, env)
	defer s.stop()
	s.key = testKey
	if status, e := call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`); status != 200 {
		t.Fatalf("publisher: %d %+v", status, e)
	}
	var modes []string
	var channel string
	for i := range 3 {
		status, e := call(t, s, "POST", "/api/token/viewer", fmt.Sprintf(`{"userId":"v%d"}`, i))
		var d struct{ Mode, StageArn, PlaybackUrl, PlaybackToken string }
		json.Unmarshal(e.Data, &d)
		if status != 200 {
			t.Fatalf("viewer %d: %d %+v", i, status, e)
		}
		modes = append(modes, d.Mode)
		if d.Mode == "playback" {
			channel = d.StageArn
			if d.PlaybackToken == "" || !strings.Contains(d.PlaybackUrl, "?token=") {
				t.Fatalf("private playback answer %s", e.Data)
			}
		}
	}
	if strings.Join(modes, ",") != "realtime,playback,playback" {
		t.Fatalf("modes %v", modes)
	}
	if status, e := call(t, s, "POST", "/api/viewer/heartbeat", `{"userId":"v1","stageArn":"`+channel+`"}`); status != 200 {
		t.Fatalf("playback heartbeat: %d %+v", status, e)
	}
	_, e := call(t, s, "GET", "/api/stats", "")
	var st struct{ RealtimeViewers, PlaybackViewers int }
	json.Unmarshal(e.Data, &st)
	if st.RealtimeViewers != 1 || st.PlaybackViewers != 2 {
		t.Fatalf("stats %s", e.Data)
	}
}
