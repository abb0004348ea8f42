package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ivslive/ivslive/internal/pages"
)

// server mounts the handler the way the API server does.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /dashboard/", http.StripPrefix("/dashboard", Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestHandlerServesAssets(t *testing.T) {
	srv := server(t)
	for path, want := range map[string]string{
		"/dashboard/":            "text/html; charset=utf-8",
		"/dashboard/app.js":      "text/javascript; charset=utf-8",
		"/dashboard/style.css":   "text/css; charset=utf-8",
		"/dashboard/favicon.svg": "image/svg+xml",
	} {
		res, body := get(t, srv.URL+path, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", path, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, want)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, got)
		}
		if body == "" {
			t.Errorf("GET %s: empty body", path)
		}
	}
	if res, _ := get(t, srv.URL+"/dashboard/missing.js", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET missing.js: status %d, want 404", res.StatusCode)
	}
}

// Every module app.js imports is served as JavaScript: browsers refuse a
// module of any other type.
func TestHandlerServesModules(t *testing.T) {
	srv := server(t)
	for _, name := range modules(t) {
		res, _ := get(t, srv.URL+"/dashboard/"+name, nil)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("GET %s: status %d, Content-Type %q", name, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}

func TestHandlerRevalidates(t *testing.T) {
	srv := server(t)
	res, _ := get(t, srv.URL+"/dashboard/app.js", nil)
	tag := res.Header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag")
	}
	res, body := get(t, srv.URL+"/dashboard/app.js", http.Header{"If-None-Match": {tag}})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("revalidation: status %d, %d bytes; want 304 and none", res.StatusCode, len(body))
	}
}

// files is the embedded static/ folder as the handler serves it.
func files(t *testing.T) fs.FS {
	t.Helper()
	sub, err := fs.Sub(static, "static")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// The server's CSP allows only same-origin scripts and no inline script or
// handler; index.html must live within it and load nothing from elsewhere.
func TestIndexIsLocalAndCSPSafe(t *testing.T) {
	pages.CheckPage(t, files(t), "index.html", nil,
		"total-viewers", "publisher-status", "stages", "chart", "events", "login", "api-key", "sign-out", "conn-state")
}

// The scripts must not need what the CSP forbids (eval), write server data
// as HTML, or keep the key beyond the tab.
func TestScriptsAvoidUnsafeAPIs(t *testing.T) {
	pages.CheckScripts(t, files(t), "app.js")
}

// modules returns app.js and every module it imports, transitively.
func modules(t *testing.T) []string { return pages.Modules(t, files(t), "app.js") }
