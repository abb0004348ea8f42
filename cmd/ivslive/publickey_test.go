package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/token"
)

// IVS_PUBLIC_KEY_ARN is checked at start against IVS: a key that does not
// exist, lives in another region, or is not the public half of the
// configured private key stops the start with a message naming the
// variable; the right one starts, and /api/health says when it was
// verified.
func TestPublicKeyARNIsVerifiedAtStart(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx := context.Background()
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	defer srv.Close()
	client, err := ivs.New(ctx, ivs.Options{Endpoint: srv.URL, Credentials: credentials.NewStaticCredentialsProvider("x", "x", "")})
	if err != nil {
		t.Fatal(err)
	}
	importKey := func(name string) (string, string) {
		key, _ := token.GenerateKey()
		priv, _ := token.EncodePrivateKey(key)
		pub, _ := token.EncodePublicKey(&key.PublicKey)
		path := filepath.Join(t.TempDir(), name+".pem")
		if err := os.WriteFile(path, priv, 0o600); err != nil {
			t.Fatal(err)
		}
		pk, err := client.ImportPublicKey(ctx, name, string(pub), nil)
		if err != nil {
			t.Fatal(err)
		}
		return path, pk.ARN
	}
	ours, oursARN := importKey("ours")
	_, otherARN := importKey("other")
	base := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "IVS_BACKEND": "aws", "IVS_ENDPOINT": srv.URL,
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "IVS_PRIVATE_KEY_FILE": ours}
	refused := map[string]struct{ arn, want string }{
		"another key":    {otherARN, "another public key"},
		"unknown key":    {oursARN[:strings.LastIndex(oursARN, "/")+1] + "AbCdEfGhIjKl", "does not exist"},
		"another region": {strings.Replace(oursARN, ":us-east-1:", ":eu-west-1:", 1), "AWS_REGION"},
		"not an ARN":     {"arn:aws:ivs:us-east-1:123456789012:stage/abc", "want arn:aws:ivs"},
	}
	for name, c := range refused {
		env := map[string]string{"IVS_PUBLIC_KEY_ARN": c.arn}
		for k, v := range base {
			env[k] = v
		}
		// A start that wrongly succeeds serves until this deadline.
		runCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := run(runCtx, nil, lookupFrom(env), io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "IVS_PUBLIC_KEY_ARN") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: start = %v; want a refusal naming IVS_PUBLIC_KEY_ARN (%q)", name, err, c.want)
		}
	}

	base["IVS_PUBLIC_KEY_ARN"] = oursARN
	s := start(t, base)
	defer s.stop()
	s.key = testKey
	_, e := call(t, s, "GET", "/api/health", "")
	var h struct {
		Components map[string]struct {
			Mode string         `json:"mode"`
			Info map[string]any `json:"info"`
		} `json:"components"`
	}
	json.Unmarshal(e.Data, &h)
	tok := h.Components["tokens"]
	if tok.Mode != "key-pair" || tok.Info["publicKeyArn"] != oursARN || tok.Info["publicKeyVerifiedAt"] == nil {
		t.Fatalf("health tokens component %+v; want key-pair, the ARN and when it was verified", tok)
	}
}
