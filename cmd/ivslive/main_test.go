package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive/token"
)

// server is one `run` of the real program.
type server struct {
	url, key string
	stop     func()
}

// start runs the program in the current directory with only env set, and
// waits for it to listen.
func start(t testing.TB, env map[string]string) server {
	t.Helper()
	return startLogged(t, env, io.Discard)
}

// startLogged is start with the server's log going to stderr.
func startLogged(t testing.TB, env map[string]string, stderr io.Writer) server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, pw, stderr)
		pw.Close()
	}()
	var s server
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		line := lines.Text()
		if k, ok := strings.CutPrefix(line, "API key (send it as x-api-key): "); ok {
			s.key = k
		}
		if u, ok := strings.CutPrefix(line, "ivslive listening on "); ok {
			s.url = u
			break
		}
	}
	if s.url == "" {
		cancel()
		t.Fatalf("server did not start: %v", <-done)
	}
	go io.Copy(io.Discard, pr)
	s.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
	}
	return s
}

type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func call(t *testing.T, s server, method, path, body string, headers ...string) (int, envelope) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", s.key)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e envelope
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, e
}

func TestServeEndToEnd(t *testing.T) {
	t.Chdir(t.TempDir())
	env := map[string]string{"API_PORT": "0", "INTERNAL_SECRET": "internal"}
	s := start(t, env)
	if s.key == "" {
		t.Fatal("no API key was generated and printed")
	}
	status, e := call(t, s, "POST", "/api/stage", `{"name":"e2e"}`)
	if status != 201 {
		t.Fatalf("create stage: %d %s", status, e.Data)
	}
	var created struct {
		Stage struct{ ARN string } `json:"stage"`
	}
	json.Unmarshal(e.Data, &created)
	arn := url.PathEscape(created.Stage.ARN)

	var list struct {
		TotalStages int `json:"totalStages"`
	}
	_, e = call(t, s, "GET", "/api/stage/list", "")
	json.Unmarshal(e.Data, &list)
	if list.TotalStages != 2 {
		t.Fatalf("list: %s", e.Data)
	}
	if status, _ := call(t, s, "GET", "/api/stage/"+arn, ""); status != 200 {
		t.Fatalf("get: %d", status)
	}
	if status, _ := call(t, s, "PUT", "/api/stage/"+arn, `{"name":"renamed"}`); status != 200 {
		t.Fatalf("update: %d", status)
	}
	status, e = call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`)
	var pub struct {
		Token string `json:"token"`
	}
	json.Unmarshal(e.Data, &pub)
	if status != 200 || pub.Token == "" {
		t.Fatalf("publisher token: %d %s", status, e.Data)
	}
	// The token verifies with the key kept in the data dir.
	keyPEM, err := os.ReadFile(filepath.Join("data", "ivs-signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := token.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.Verify(pub.Token, &key.PublicKey); err != nil {
		t.Fatalf("publisher token does not verify: %v", err)
	}
	body := `{"serverId":"relay","stageArn":"` + created.Stage.ARN + `"}`
	if status, _ := call(t, s, "POST", "/api/token/mediaserver", body); status != 403 {
		t.Fatalf("media server without secret: %d, want 403", status)
	}
	if status, _ := call(t, s, "POST", "/api/token/mediaserver", body, "X-Internal-Secret", "internal"); status != 200 {
		t.Fatalf("media server with secret: %d", status)
	}
	if status, _ := call(t, s, "DELETE", "/api/stage/"+arn, ""); status != 200 {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := call(t, s, "GET", "/api/stage/"+arn, ""); status != 404 {
		t.Fatalf("get after delete: %d, want 404", status)
	}
	var master struct {
		Stage struct{ ARN string } `json:"stage"`
	}
	_, e = call(t, s, "GET", "/api/stage/master/info", "")
	json.Unmarshal(e.Data, &master)
	if status, e := call(t, s, "DELETE", "/api/stage/"+url.PathEscape(master.Stage.ARN), ""); status != 403 || e.Error.Code != "FORBIDDEN" {
		t.Fatalf("delete master: %d %s", status, e.Error.Code)
	}
	_, e = call(t, s, "POST", "/api/stage", `{"name":"kept"}`)
	json.Unmarshal(e.Data, &created)
	kept := created.Stage.ARN
	s.stop()

	// A restart keeps the stages, the master stage and the key.
	again := start(t, env)
	defer again.stop()
	if again.key != "" {
		t.Error("the API key was printed again on restart")
	}
	again.key = s.key
	_, e = call(t, again, "GET", "/api/stage/master/info", "")
	var master2 struct {
		Stage struct{ ARN string } `json:"stage"`
	}
	json.Unmarshal(e.Data, &master2)
	if master2.Stage.ARN != master.Stage.ARN {
		t.Fatalf("master after restart %q, want %q", master2.Stage.ARN, master.Stage.ARN)
	}
	if status, _ := call(t, again, "GET", "/api/stage/"+url.PathEscape(kept), ""); status != 200 {
		t.Fatalf("stage lost across restart: %d", status)
	}
	_, e = call(t, again, "GET", "/api/stage/list", "")
	json.Unmarshal(e.Data, &list)
	if list.TotalStages != 2 {
		t.Fatalf("after restart %d stages, want 2", list.TotalStages)
	}
	status, e = call(t, again, "POST", "/api/token/publisher", `{"userId":"host"}`)
	json.Unmarshal(e.Data, &pub)
	if _, err := token.Verify(pub.Token, &key.PublicKey); status != 200 || err != nil {
		t.Fatalf("token after restart: %d %v", status, err)
	}
}

// A start that fails half way (here: a bad API_KEYS, checked after the
// stores are open) returns the error and closes what it opened.
func TestStartupFailureIsReported(t *testing.T) {
	t.Chdir(t.TempDir())
	env := map[string]string{"API_PORT": "0", "API_KEYS": "web:viewer:short"}
	err := run(context.Background(), nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "API_KEYS") {
		t.Fatalf("run = %v, want an error naming API_KEYS", err)
	}
}
