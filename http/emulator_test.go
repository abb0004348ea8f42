package http_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/memory"
)

// emulatorFront is the API handler with only the emulator mounted, so a
// test can send requests from any peer address.
type emulatorFront struct {
	em *emulator.Emulator
	h  http.Handler
}

func newEmulatorFront(t *testing.T, cfg ivshttp.Config) emulatorFront {
	t.Helper()
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A lenient data-plane handler that resolves dot segments itself is
	// what the guard must not be fooled into reaching.
	lenient := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path, r.URL.RawPath = path.Clean(r.URL.Path), ""
		em.ServeHTTP(w, r)
	})
	cfg.Keys = []ivshttp.APIKey{{Name: "admin", Scope: ivshttp.ScopeAdmin, Secret: apitest.Key}, {Name: "reader", Scope: ivshttp.ScopeRead, Secret: apitest.ReadKey}}
	cfg.AuthFailureLimit = ivslive.RateLimit{Requests: 3, Period: time.Minute}
	s := &ivshttp.Server{Config: cfg, Emulator: lenient, Limiter: memory.NewRateLimiter(nil)}
	return emulatorFront{em: em, h: s.Handler()}
}

// do sends method path from peer with Host host and the header pairs.
func (f emulatorFront) do(method, path, peer, host string, headers ...string) *httptest.ResponseRecorder {
	body := ""
	if method == "POST" {
		body = `{"name":"sneaky"}`
	}
	r := httptest.NewRequest(method, "http://"+host+path, strings.NewReader(body))
	r.RemoteAddr = peer
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// stages counts the emulator's stages, asking it directly.
func (f emulatorFront) stages(t *testing.T) int {
	t.Helper()
	w := httptest.NewRecorder()
	f.em.ServeHTTP(w, httptest.NewRequest("POST", "/ListStages", strings.NewReader("{}")))
	var out struct{ Stages []any }
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("ListStages: %d %s", w.Code, w.Body)
	}
	return len(out.Stages)
}

const local, remote = "127.0.0.1:50000", "203.0.113.5:50000"

// In the default loopback mode the control plane answers only requests
// straight from this host: anything a proxy forwarded, anything from
// elsewhere, a browser's request to another Host name (DNS rebinding), and
// everything once TRUST_PROXY is set, is refused before the emulator acts.
func TestEmulatorControlPlaneRefusesProxiedRequests(t *testing.T) {
	f := newEmulatorFront(t, ivshttp.Config{})
	if w := f.do("POST", "/ivs/CreateStage", local, "127.0.0.1:3000"); w.Code != 200 {
		t.Fatalf("a direct local CreateStage: %d %s", w.Code, w.Body)
	}
	refused := []struct {
		name, peer, host string
		headers          []string
	}{
		{"X-Forwarded-For", local, "localhost:3000", []string{"X-Forwarded-For", "203.0.113.9"}},
		{"X-Forwarded-Proto", local, "localhost:3000", []string{"X-Forwarded-Proto", "https"}},
		{"X-Forwarded-Host", local, "localhost:3000", []string{"X-Forwarded-Host", "live.example.com"}},
		{"Forwarded", local, "localhost:3000", []string{"Forwarded", "for=203.0.113.9"}},
		{"X-Real-Ip", local, "localhost:3000", []string{"X-Real-Ip", "203.0.113.9"}},
		{"Via", local, "localhost:3000", []string{"Via", "1.1 caddy"}},
		{"remote peer", remote, "localhost:3000", nil},
		{"foreign Host (DNS rebinding)", local, "evil.example:3000", nil},
	}
	for _, c := range refused {
		w := f.do("POST", "/ivs/CreateStage", c.peer, c.host, c.headers...)
		if w.Code != 403 || !strings.Contains(w.Body.String(), `"FORBIDDEN"`) {
			t.Errorf("%s: %d %s, want 403 in the envelope", c.name, w.Code, w.Body)
		}
	}
	if n := f.stages(t); n != 1 {
		t.Fatalf("the emulator has %d stages, want only the direct request's", n)
	}

	behind := newEmulatorFront(t, ivshttp.Config{TrustProxy: ivshttp.TrustProxy{Hops: 1}})
	if w := behind.do("POST", "/ivs/CreateStage", local, "localhost:3000"); w.Code != 403 {
		t.Fatalf("with TRUST_PROXY set, a local request without headers: %d, want 403", w.Code)
	}
}

// The data plane (JWKS, WHIP under /ivs/whip/, HLS playback under
// /ivs/playback/) is reachable from anywhere,
// through proxies too; dot segments cannot smuggle a control-plane call
// through its prefix.
func TestEmulatorDataPlaneStaysOpen(t *testing.T) {
	f := newEmulatorFront(t, ivshttp.Config{EmulatorControl: ivshttp.EmulatorOff})
	if w := f.do("GET", "/ivs/.well-known/jwks.json", remote, "live.example.com", "X-Forwarded-For", "198.51.100.1"); w.Code != 200 {
		t.Fatalf("JWKS through a proxy: %d %s", w.Code, w.Body)
	}
	if w := f.do("POST", "/ivs/whip/abc", remote, "live.example.com", "X-Forwarded-For", "198.51.100.1"); w.Code == 403 {
		t.Fatalf("WHIP through a proxy was refused by the guard: %s", w.Body)
	}
	// An unknown channel: the emulator's plain 404, not the guard's 403.
	if w := f.do("GET", "/ivs/playback/abc.m3u8", remote, "live.example.com", "X-Forwarded-For", "198.51.100.1"); w.Code != 404 {
		t.Fatalf("playback through a proxy: %d %s, want the emulator's 404", w.Code, w.Body)
	}
	for _, path := range []string{"/ivs/playback/..%2FCreateStage", "/ivs/playback/../CreateStage", "/ivs/whip/..%2FCreateStage", "/ivs/whip/%2e%2e/CreateStage", "/ivs/whip/x%2F..%2F..%2FCreateStage", "/ivs/whip/../CreateStage"} {
		f.do("POST", path, remote, "live.example.com")
	}
	if n := f.stages(t); n != 0 {
		t.Fatalf("a dot-segment path created %d stages through the whip prefix", n)
	}
}

// EMULATOR_CONTROL=key needs the admin key (proxies allowed), counts
// failed keys like every other surface; off refuses even local tools.
func TestEmulatorControlModes(t *testing.T) {
	f := newEmulatorFront(t, ivshttp.Config{EmulatorControl: ivshttp.EmulatorKey})
	via := []string{"X-Forwarded-For", "198.51.100.1"}
	if w := f.do("POST", "/ivs/CreateStage", remote, "live.example.com", append(via, "X-Api-Key", apitest.Key)...); w.Code != 200 {
		t.Fatalf("admin key through a proxy: %d %s", w.Code, w.Body)
	}
	if w := f.do("POST", "/ivs/CreateStage", remote, "live.example.com", "X-Api-Key", apitest.ReadKey); w.Code != 403 {
		t.Fatalf("read key: %d, want 403", w.Code)
	}
	if w := f.do("POST", "/ivs/CreateStage", local, "localhost"); w.Code != 401 {
		t.Fatalf("no key, even locally: %d, want 401", w.Code)
	}
	for i := 0; i < 3; i++ {
		f.do("POST", "/ivs/CreateStage", remote, "live.example.com", "X-Api-Key", "guess")
	}
	if w := f.do("POST", "/ivs/CreateStage", remote, "live.example.com", "X-Api-Key", apitest.Key); w.Code != 429 {
		t.Fatalf("after 3 bad keys: %d, want 429", w.Code)
	}
	if n := f.stages(t); n != 1 {
		t.Fatalf("%d stages, want 1", n)
	}

	off := newEmulatorFront(t, ivshttp.Config{EmulatorControl: ivshttp.EmulatorOff})
	if w := off.do("POST", "/ivs/CreateStage", local, "localhost", "X-Api-Key", apitest.Key); w.Code != 403 {
		t.Fatalf("off: %d, want 403", w.Code)
	}
}

// Through the running server: a forwarded request is refused.
func TestEmulatorRefusesForwardedOverTheWire(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	r := env.Do(t, "POST", "/ivs/ListStages", "{}", "X-Forwarded-For", "203.0.113.9")
	checkEnvelope(t, r, 403, "FORBIDDEN")
	env.Must(t, 200, "POST", "/ivs/ListStages", "{}")
}
