package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
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

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	handlerAttr = regexp.MustCompile(`(?is)<[a-z][^>]*\son[a-z]+\s*=`)
	assetRef    = regexp.MustCompile(`(?i)\s(?:src|href)\s*=\s*"([^"]*)"`)
	importFrom  = regexp.MustCompile(`(?m)^\s*import\b[^"']*["']([^"']+)["']`)
)

// The server's CSP allows only same-origin scripts and no inline script or
// handler; index.html must live within it and load nothing from elsewhere.
func TestIndexIsLocalAndCSPSafe(t *testing.T) {
	b, err := fs.ReadFile(static, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, bad := range []string{"http://", "https://", "//cdn", "javascript:"} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	scripts := scriptTag.FindAllStringSubmatch(html, -1)
	if len(scripts) == 0 {
		t.Error("index.html loads no script")
	}
	for _, m := range scripts {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script: %s", m[0])
		}
	}
	if m := handlerAttr.FindString(html); m != "" {
		t.Errorf("inline event handler: %s", m)
	}
	for _, m := range assetRef.FindAllStringSubmatch(html, -1) {
		if _, err := fs.Stat(static, "static/"+m[1]); err != nil {
			t.Errorf("index.html references %q, which is not embedded", m[1])
		}
	}
	for _, id := range []string{"total-viewers", "publisher-status", "stages", "chart", "events", "login", "api-key", "sign-out", "conn-state"} {
		if !strings.Contains(html, `id="`+id+`"`) {
			t.Errorf("index.html lacks id %q", id)
		}
	}
}

// The scripts must not need what the CSP forbids (eval), write server data
// as HTML, or keep the key beyond the tab.
func TestScriptsAvoidUnsafeAPIs(t *testing.T) {
	for _, name := range modules(t) {
		b, err := fs.ReadFile(static, "static/"+name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage", "apiKey="} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
}

// modules returns app.js and every module it imports, transitively, failing
// when an import names a file that is not embedded.
func modules(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	queue := []string{"app.js"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		b, err := fs.ReadFile(static, "static/"+name)
		if err != nil {
			t.Fatalf("module %s: %v", name, err)
		}
		for _, m := range importFrom.FindAllStringSubmatch(string(b), -1) {
			queue = append(queue, strings.TrimPrefix(m[1], "./"))
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	return names
}
