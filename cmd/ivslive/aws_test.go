package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivslive/ivslive/internal/cwfake"
	"github.com/ivslive/ivslive/internal/testenv"
	"github.com/ivslive/ivslive/ivs/emulator"
)

// tokenRecorder is an IVS endpoint (the emulator) that keeps the
// X-Amz-Security-Token header of every signed request.
type tokenRecorder struct {
	next   http.Handler
	mu     sync.Mutex
	tokens []string
}

func (r *tokenRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// Only SigV4-signed requests: the emulator's identity probe
	// (GET /_emulator/identity) is an unsigned ivslive extension.
	if strings.HasPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		r.mu.Lock()
		r.tokens = append(r.tokens, req.Header.Get("X-Amz-Security-Token"))
		r.mu.Unlock()
	}
	r.next.ServeHTTP(w, req)
}

func (r *tokenRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

// Temporary credentials (SSO, assume-role) reach AWS whole: the session
// token is on every signed IVS and CloudWatch request, whether the three
// variables are in the environment (the SDK's own provider reads them) or
// in ./.env.
func TestSessionTokenReachesAWS(t *testing.T) {
	for _, source := range []string{"environment", ".env"} {
		t.Run(source, func(t *testing.T) {
			t.Chdir(t.TempDir())
			em, err := emulator.New(emulator.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rec := &tokenRecorder{next: em}
			ivsSrv := httptest.NewServer(rec)
			defer ivsSrv.Close()
			cw := cwfake.New(t)
			creds := map[string]string{"AWS_ACCESS_KEY_ID": "ASIATESTKEY", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_SESSION_TOKEN": "session-token-" + source}
			env := map[string]string{"API_PORT": "0", "API_SECRET_KEY": testKey, "IVS_BACKEND": "aws", "IVS_ENDPOINT": ivsSrv.URL,
				"AWS_REGION": "us-east-1", "CLOUDWATCH_ENABLED": "true", "CLOUDWATCH_ENDPOINT": cw.URL(), "METRICS_INTERVAL": "1"}
			if source == "environment" {
				for k, v := range creds {
					t.Setenv(k, v)
					env[k] = v
				}
			} else {
				for k := range creds {
					t.Setenv(k, "") // nothing in the real environment
				}
				dotenv := ""
				for k, v := range creds {
					dotenv += k + "=" + v + "\n"
				}
				if err := os.WriteFile(".env", []byte(dotenv), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s := start(t, env)
			defer s.stop()
			s.key = testKey
			call(t, s, "POST", "/api/token/publisher", `{"userId":"host"}`) // a CreateParticipantToken call

			seen := rec.seen()
			if len(seen) == 0 {
				t.Fatal("no IVS request was made")
			}
			for i, tok := range seen {
				if tok != creds["AWS_SESSION_TOKEN"] {
					t.Fatalf("IVS request %d of %d carried X-Amz-Security-Token %q, want %q", i+1, len(seen), tok, creds["AWS_SESSION_TOKEN"])
				}
			}
			var calls []cwfake.Call
			testenv.Eventually(t, 15*time.Second, "a CloudWatch request", func() bool {
				calls, _, _ = cw.Snapshot()
				return len(calls) > 0
			})
			if calls[0].SecurityToken != creds["AWS_SESSION_TOKEN"] {
				t.Fatalf("CloudWatch request carried X-Amz-Security-Token %q", calls[0].SecurityToken)
			}
		})
	}
}
