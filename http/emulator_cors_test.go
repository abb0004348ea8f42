package http_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	ivshttp "github.com/ivslive/ivslive/http"
)

// The embedded emulator's data plane (/ivs/whip/) answers anyone, and its
// CORS is its own (any origin may publish with a token), not CORS_ORIGINS;
// the control plane stays for local clients.
func TestEmulatorDataPlaneCORS(t *testing.T) {
	stub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Emulator-Path", r.URL.Path)
		w.WriteHeader(299)
	})
	s := &ivshttp.Server{Emulator: stub, Config: ivshttp.Config{Environment: "test", CORSOrigins: []string{"http://localhost:3000"}}}
	h := s.Handler()
	tests := []struct {
		name, method, path, remote, origin string
		reached                            bool
	}{
		{"control plane from the LAN", http.MethodPost, "/ivs/CreateStage", "192.0.2.7:5000", "", false},
		{"control plane from loopback", http.MethodPost, "/ivs/CreateStage", "127.0.0.1:5000", "", true},
		{"JWKS from the LAN", http.MethodGet, "/ivs/.well-known/jwks.json", "192.0.2.7:5000", "", true},
		{"WHIP from the LAN", http.MethodPost, "/ivs/whip/abc", "192.0.2.7:5000", "", true},
		{"WHIP resource from the LAN", http.MethodDelete, "/ivs/whip/abc/resource/x", "192.0.2.7:5000", "", true},
		{"WHIP preflight from another origin", http.MethodOptions, "/ivs/whip/abc", "192.0.2.7:5000", "https://studio.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			r.RemoteAddr = tt.remote
			r.Host = "127.0.0.1:3000"
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
				r.Header.Set("Access-Control-Request-Method", "POST")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			reached := w.Code == 299
			if reached != tt.reached {
				t.Fatalf("%s %s from %s = %d %s; reached the emulator %v, want %v", tt.method, tt.path, tt.remote, w.Code, w.Body, reached, tt.reached)
			}
			if reached && w.Header().Get("X-Emulator-Path") != tt.path[len("/ivs"):] {
				t.Errorf("emulator saw %q", w.Header().Get("X-Emulator-Path"))
			}
			if reached && tt.origin != "" && w.Header().Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("the API's CORS headers leaked onto the data plane: %v", w.Header())
			}
		})
	}
}
