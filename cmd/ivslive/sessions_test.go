package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ivslive/ivslive/token"
)

// viewerSession joins a viewer through s and returns its session token.
func viewerSession(t *testing.T, s server, user string) string {
	t.Helper()
	if status, e := call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`); status != 200 {
		t.Fatalf("publisher token: %d %s", status, e.Data)
	}
	status, e := call(t, s, "POST", "/api/token/viewer", fmt.Sprintf(`{"userId":%q}`, user))
	var v struct {
		SessionToken string `json:"sessionToken"`
	}
	json.Unmarshal(e.Data, &v)
	if status != 200 || v.SessionToken == "" {
		t.Fatalf("viewer token: %d %s", status, e.Data)
	}
	return v.SessionToken
}

func heartbeatWith(t *testing.T, s server, sessionToken string) int {
	t.Helper()
	status, _ := call(t, s, "POST", "/api/viewer/heartbeat", "", "X-Api-Key", "", "Authorization", "Bearer "+sessionToken)
	return status
}

// A session token is no oracle for the admin key: its MAC is keyed by a
// random secret kept in the data dir (0600), not by anything computed from
// API_SECRET_KEY, and the secret survives a restart.
func TestSessionTokenSecretIsRandomNotDerived(t *testing.T) {
	t.Chdir(t.TempDir())
	const adminKey = "Summer2024!-admin-key"
	env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": adminKey}
	s := start(t, env)
	s.key = adminKey
	tok := viewerSession(t, s, "alice")

	// What an attacker holding tok would compute for a guess of the admin
	// key, the way the secret used to be derived.
	m := hmac.New(sha256.New, []byte(adminKey))
	m.Write([]byte("ivslive viewer session tokens v1"))
	derived, _ := token.NewSessions(m.Sum(nil), nil)
	if _, err := derived.Verify(tok); err == nil {
		t.Fatal("the session token verifies with a key derived from API_SECRET_KEY: it lets anyone test admin-key guesses offline")
	}
	path := filepath.Join("data", "session-secret")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no session secret in the data dir: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	secret, _ := os.ReadFile(path)
	kept, err := token.NewSessions(bytes.TrimSpace(secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Verify(tok); err != nil {
		t.Fatalf("the token is not signed with the secret in the data dir: %v", err)
	}
	s.stop()

	again := start(t, env)
	defer again.stop()
	again.key = adminKey
	if status := heartbeatWith(t, again, tok); status != 200 {
		t.Fatalf("heartbeat with a session token after a restart: %d, want 200", status)
	}
}

// With Redis, instances share one generated secret: a session token from
// one instance works on the other.
func TestSessionTokenSecretIsSharedThroughRedis(t *testing.T) {
	env := clusterEnv(t)
	a := startIn(t, env)
	defer a.stop()
	b := startIn(t, env)
	defer b.stop()
	tok := viewerSession(t, a, "bob")
	if status := heartbeatWith(t, b, tok); status != 200 {
		t.Fatalf("heartbeat on instance B with A's session token: %d, want 200", status)
	}
}
