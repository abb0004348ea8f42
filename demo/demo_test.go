package demo

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
	h := http.StripPrefix("/demo", Handler())
	mux.Handle("GET /demo/publish", h)
	mux.Handle("GET /demo/watch", h)
	mux.Handle("GET /demo/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHandlerServesPages(t *testing.T) {
	srv := server(t)
	for path, want := range map[string]string{
		"/demo/":           "text/html; charset=utf-8",
		"/demo/publish":    "text/html; charset=utf-8",
		"/demo/watch":      "text/html; charset=utf-8",
		"/demo/publish.js": "text/javascript; charset=utf-8",
		"/demo/watch.js":   "text/javascript; charset=utf-8",
		"/demo/demo.js":    "text/javascript; charset=utf-8",
		"/demo/demo.css":   "text/css; charset=utf-8",
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != want || res.Header.Get("ETag") == "" || len(body) == 0 {
			t.Errorf("GET %s: %d, Content-Type %q, ETag %q, %d bytes", path, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("ETag"), len(body))
		}
		if page := strings.TrimPrefix(path, "/demo/"); (page == "publish" || page == "watch") && !strings.Contains(string(body), `src="`+page+`.js"`) {
			t.Errorf("GET %s is not the %s page", path, page)
		}
	}
	// "publish/" would resolve the page's assets under /demo/publish/.
	for _, path := range []string{"/demo/publish/", "/demo/missing.js", "/demo/publish.html/x"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
}

func files(t *testing.T) fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// The pages live within the server's CSP (same-origin scripts, nothing
// inline) and load nothing from elsewhere; their scripts keep the key in
// the tab and never write data as HTML.
func TestPagesAreLocalAndCSPSafe(t *testing.T) {
	f := files(t)
	siblings := []string{"publish", "watch"}
	pages.CheckPage(t, f, "index.html", siblings)
	pages.CheckPage(t, f, "publish.html", siblings, "api-key", "user-id", "start", "stop", "status", "preview", "participant", "whip-url", "sent")
	pages.CheckPage(t, f, "watch.html", siblings, "api-key", "user-id", "start", "stop", "status", "video", "publisher", "video-size", "received")
	for _, entry := range []string{"publish.js", "watch.js"} {
		if mods := pages.CheckScripts(t, f, entry); len(mods) < 2 {
			t.Errorf("%s imports %v, want demo.js too", entry, mods)
		}
	}
}
