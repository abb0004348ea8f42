package emulator

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive/internal/testenv"
)

// newFakeClock returns a clock that only moves when told to, with
// nanoseconds because the emulator must cut them as IVS does.
func newFakeClock() *testenv.Clock {
	return testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 123_456_789, time.UTC))
}

// harness is an emulator behind an httptest server with an SDK client.
type harness struct {
	em     *Emulator
	srv    *httptest.Server
	client *ivsrealtime.Client
	clock  *testenv.Clock
}

// newHarness starts an emulator with opts (its clock replaced by a fake one
// unless opts.Now is set) and a client that does not retry.
func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	em, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(em)
	t.Cleanup(func() {
		srv.Close()
		if err := em.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{em: em, srv: srv, client: newClient(srv.URL, 1), clock: clock}
}

// newClient returns a real SDK client for the emulator at url. attempts 1
// disables retries so injected errors surface at once.
func newClient(url string, attempts int) *ivsrealtime.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}
	return ivsrealtime.NewFromConfig(cfg, func(o *ivsrealtime.Options) {
		o.BaseEndpoint = aws.String(url)
		o.RetryMaxAttempts = attempts
	})
}

// createStage creates a stage through the SDK and returns it.
func (h *harness) createStage(t *testing.T, name string) *types.Stage {
	t.Helper()
	out, err := h.client.CreateStage(t.Context(), &ivsrealtime.CreateStageInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateStage %s: %v", name, err)
	}
	return out.Stage
}

// post sends a raw JSON request and returns the status, headers and body.
func (h *harness) post(t *testing.T, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, b
}

// wantAPIError asserts that err is the typed SDK error T and that its
// ExceptionMessage contains every fragment.
func wantAPIError[T error](t *testing.T, err error, fragments ...string) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error = %v (%T), want %T", err, err, target)
	}
	msg := reflect.ValueOf(target).Elem().FieldByName("ExceptionMessage").Interface().(*string)
	if msg == nil {
		t.Fatalf("%T has no ExceptionMessage", target)
	}
	for _, f := range fragments {
		if !strings.Contains(*msg, f) {
			t.Errorf("ExceptionMessage = %q, want it to contain %q", *msg, f)
		}
	}
	return target
}

// sdkCmp compares SDK output types, whose structs carry an empty unexported
// marker field that cmp would otherwise refuse to look at.
func sdkCmp() cmp.Option {
	return cmp.Exporter(func(reflect.Type) bool { return true })
}

// newP384PEM returns a fresh P-384 public key as PEM.
func newP384PEM(t *testing.T) string {
	t.Helper()
	return newECPEM(t, elliptic.P384())
}

func newECPEM(t *testing.T, curve elliptic.Curve) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	return publicPEM(t, &key.PublicKey)
}

func publicPEM(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("marshal public key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// decodeJSON unmarshals b into a generic value for assertions.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// longString returns n copies of "a".
func longString(n int) string {
	return strings.Repeat("a", n)
}

func elliptic256() elliptic.Curve { return elliptic.P256() }
