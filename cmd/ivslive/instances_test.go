package main

import (
	"github.com/aws/aws-sdk-go-v2/credentials"

	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/token"
)

// The issue 18 scenario: two instances in embedded mode (each with its own
// in-process emulator) on one Redis and one PostgreSQL. The second refuses
// to start, says what to do, and leaves the first one's stages, master stage
// and live viewers as they were.
func TestSecondEmbeddedInstanceRefuses(t *testing.T) {
	_, prefix := testenv.Redis(t)
	env := map[string]string{
		"API_PORT": "0", "API_SECRET_KEY": testKey,
		"REDIS_URL": testenv.RedisURL(), "REDIS_KEY_PREFIX": prefix, "DATABASE_URL": testenv.PostgresURL(t),
		"AUTO_SCALE_ENABLED": "false",
	}
	a := startIn(t, env)
	defer a.stop()
	call(t, a, "POST", "/api/token/publisher", `{"userId":"host"}`)
	for _, u := range []string{"v1", "v2"} {
		if status, _ := call(t, a, "POST", "/api/token/viewer", `{"userId":"`+u+`"}`); status != 200 {
			t.Fatalf("join %s: %d", u, status)
		}
	}
	before := stageList(t, a)
	if before.Total != 1 || len(before.Stages) != 1 || !before.Stages[0].Master {
		t.Fatalf("A lists %+v, want its master stage", before)
	}

	benv := map[string]string{"IVSLIVE_DATA_DIR": t.TempDir()}
	for k, v := range env {
		benv[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	started := time.Now()
	err := run(ctx, nil, func(k string) (string, bool) { v, ok := benv[k]; return v, ok }, io.Discard, io.Discard)
	t.Logf("B's start ended after %v: %v", time.Since(started).Round(time.Millisecond), err)
	if err == nil {
		t.Fatal("B started on a store that belongs to A's IVS")
	}
	// It used to loop on the master stage until the boot deadline, then
	// blame the rate quota.
	if strings.Contains(err.Error(), "quota") {
		t.Errorf("B's error blames the IVS rate quota: %v", err)
	}
	for _, want := range []string{"ivslive emulator", "IVS_ENDPOINT", "AWS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("B's error does not say %q: %v", want, err)
		}
	}

	after := stageList(t, a)
	if after.Total != 1 || len(after.Stages) != 1 || after.Stages[0].ARN != before.Stages[0].ARN ||
		!after.Stages[0].Master || after.Stages[0].Viewers != 2 {
		t.Fatalf("A lists %+v after B's failed start, want %+v", after, before)
	}
	_, e := call(t, a, "GET", "/api/stage/master/info", "")
	if !strings.Contains(string(e.Data), before.Stages[0].ARN) {
		t.Fatalf("A's master stage after B's failed start: %s", e.Data)
	}
	if status, _ := call(t, a, "POST", "/api/viewer/heartbeat", `{"userId":"v1","stageArn":"`+before.Stages[0].ARN+`"}`); status != 200 {
		t.Fatalf("heartbeat of A's viewer after B's failed start: %d", status)
	}
}

type listedStages struct {
	Total  int `json:"totalStages"`
	Stages []struct {
		ARN     string `json:"stageArn"`
		Master  bool   `json:"isMaster"`
		Viewers int    `json:"viewerCount"`
	} `json:"stages"`
}

func stageList(t *testing.T, s server) listedStages {
	t.Helper()
	status, e := call(t, s, "GET", "/api/stage/list", "")
	if status != 200 {
		t.Fatalf("stage list: %d", status)
	}
	var l listedStages
	if err := json.Unmarshal(e.Data, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// Two processes on one data dir would load one emulator state into two
// emulators with one id but diverging stages: the second is refused.
func TestInstancesCannotShareAnEmulatorState(t *testing.T) {
	env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "IVSLIVE_DATA_DIR": t.TempDir()}
	a := start(t, env)
	defer a.stop()
	// Were it to start, it would serve until this deadline and return nil.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := run(ctx, nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "in use by another ivslive process") || !strings.Contains(err.Error(), "IVSLIVE_DATA_DIR") {
		t.Fatalf("a second instance on the same data dir: %v", err)
	}
}

// Embedded mode starts again after losing either file of its data dir: the
// database (the key imported into the emulator is adopted, issue 13 item 12)
// or the emulator's state (the local store follows the new emulator).
func TestEmbeddedRestartsAfterLosingAFile(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "IVSLIVE_DATA_DIR": dir}
	kid := func() string {
		t.Helper()
		s := start(t, env)
		defer s.stop()
		s.key = testKey
		return publisherKid(t, s)
	}
	first := kid()
	for _, f := range []string{"ivslive.db", "ivslive.db-wal", "ivslive.db-shm"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if again := kid(); again != first {
		t.Fatalf("after losing ivslive.db the tokens name key %s, want the imported %s", again, first)
	}
	if err := os.Remove(filepath.Join(dir, "emulator.json")); err != nil {
		t.Fatal(err)
	}
	if again := kid(); again == "" {
		t.Fatal("no token after losing emulator.json")
	}
}

// publisherKid asks s for a publisher token and returns its kid: the ARN of
// the imported key it is signed with.
func publisherKid(t *testing.T, s server) string {
	t.Helper()
	status, e := call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`)
	var pub struct {
		Token string `json:"token"`
	}
	json.Unmarshal(e.Data, &pub)
	head, _, _ := strings.Cut(pub.Token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Kid string `json:"kid"`
	}
	if status != 200 || err != nil || json.Unmarshal(raw, &h) != nil || h.Kid == "" {
		t.Fatalf("publisher token: %d %s", status, e.Data)
	}
	return h.Kid
}

// Instances on one emulator with a signing key each (one per instance,
// within IVS's quota of 3 keys) sign with their own key's ARN, after a
// restart too, though the shared stage store records one key ARN.
func TestEachInstanceSignsWithItsOwnKey(t *testing.T) {
	env := clusterEnv(t)
	client, err := ivs.New(context.Background(), ivs.Options{Endpoint: env["IVS_ENDPOINT"], Credentials: credentials.NewStaticCredentialsProvider("x", "x", "")})
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{t.TempDir(), t.TempDir()}
	for round := range 2 { // a start, then a restart, one instance after the other
		var running []server
		for i, dir := range dirs {
			e := map[string]string{"IVSLIVE_DATA_DIR": dir}
			for k, v := range env {
				e[k] = v
			}
			s := startIn(t, e)
			running = append(running, s)
			b, err := os.ReadFile(filepath.Join(dir, "ivs-signing-key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			key, err := token.ParsePrivateKey(b)
			if err != nil {
				t.Fatal(err)
			}
			pem, _ := token.EncodePublicKey(&key.PublicKey)
			own, err := client.FindPublicKey(context.Background(), string(pem))
			if err != nil {
				t.Fatal(err)
			}
			if kid := publisherKid(t, s); kid != own.ARN {
				t.Fatalf("start %d of instance %d signs as %s, but its key is %s", round+1, i, kid, own.ARN)
			}
		}
		for _, s := range running {
			s.stop()
		}
	}
}
