package http_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/internal/apitest"
)

// TestSecurityHeaders: JSON answers carry the API set (OWASP's REST
// cheat sheet), the pages carry helmet's, and the CORS headers appear when a
// browser sends an Origin.
func TestSecurityHeaders(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	api := env.Must(t, 200, "GET", "/api/stats/viewers", nil)
	for k, want := range map[string]string{
		"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":    "nosniff",
		"Strict-Transport-Security": "max-age=15552000; includeSubDomains",
		"Cache-Control":             "no-store",
	} {
		if got := api.Header.Get(k); got != want {
			t.Errorf("API answer %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"Vary", "Access-Control-Allow-Credentials", "X-Xss-Protection", "Origin-Agent-Cluster", "X-Frame-Options"} {
		if v, ok := api.Header[k]; ok {
			t.Errorf("API answer without Origin has %s: %q", k, v)
		}
	}

	cors := env.Must(t, 200, "GET", "/api/stats/viewers", nil, "Origin", "http://localhost:3000")
	for k, want := range map[string]string{"Vary": "Origin", "Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Origin": "http://localhost:3000"} {
		if got := cors.Header.Get(k); got != want {
			t.Errorf("CORS answer %s = %q, want %q", k, got, want)
		}
	}
	other := env.Must(t, 200, "GET", "/api/stats/viewers", nil, "Origin", "https://evil.example")
	if got := other.Header.Get("Access-Control-Allow-Origin"); got != "" || other.Header.Get("Vary") != "Origin" {
		t.Errorf("unlisted origin: ACAO %q, Vary %q", got, other.Header.Get("Vary"))
	}

	res, err := http.Get(env.URL + "/dashboard/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("dashboard CSP = %q, want helmet's", csp)
	}
	for _, k := range []string{"Cross-Origin-Opener-Policy", "X-Xss-Protection", "Referrer-Policy", "X-Frame-Options"} {
		if res.Header.Get(k) == "" {
			t.Errorf("dashboard page lacks %s", k)
		}
	}
}

// The demo pages load without a key under the pages' headers, and a server
// without them (production, IVS on AWS) does not have the routes.
func TestDemoPages(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	for _, path := range []string{"/demo/", "/demo/publish", "/demo/watch", "/demo/watch.js"} {
		res, err := http.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
			res.Header.Get("Cross-Origin-Opener-Policy") == "" {
			t.Errorf("GET %s: %d, CSP %q: want the page and the pages' headers", path, res.StatusCode, res.Header.Get("Content-Security-Policy"))
		}
	}

	prod := httptest.NewServer((&ivshttp.Server{Live: env.Live, Config: env.Server.Config}).Handler())
	defer prod.Close()
	res, err := http.Get(prod.URL + "/demo/publish")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /demo/publish without the demo: %d, want 404", res.StatusCode)
	}
}
