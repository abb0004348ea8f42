package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"

	"github.com/ivslive/ivslive/api"
)

// The Content-Security-Policy the server sends (helmet's defaults); the page
// must work under it.
const csp = "default-src 'self'; script-src 'self'; script-src-attr 'none'; style-src 'self' https: 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' https: data:; object-src 'none'"

// docsServer serves the page and the document the way the API server will.
func docsServer(t *testing.T) *httptest.Server {
	t.Helper()
	doc, err := api.JSON()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /docs/", http.StripPrefix("/docs/", api.DocsHandler()))
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestJSONIsTheYAML(t *testing.T) {
	j, err := api.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal(j, &fromJSON); err != nil {
		t.Fatalf("JSON() is not JSON: %v", err)
	}
	if err := yaml.Unmarshal(api.YAML(), &fromYAML); err != nil {
		t.Fatal(err)
	}
	// Through JSON, so both sides have JSON's types.
	y, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(y, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Fatal("JSON() differs from openapi.yaml")
	}
	if !bytes.HasPrefix(j, []byte(`{"openapi":"3.1.0","info":`)) {
		t.Errorf("JSON() does not keep the YAML's key order: %.60s", j)
	}
	doc, err := openapi3.NewLoader().LoadFromData(j)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served JSON is not a valid document: %v", err)
	}
}

func TestDocsHandler(t *testing.T) {
	srv := docsServer(t)
	get := func(path string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get("/docs/")
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The CSP allows scripts from files only.
	for _, m := range regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`).FindAllSubmatch(page, -1) {
		if !bytes.Contains(m[1], []byte("src=")) || len(bytes.TrimSpace(m[2])) > 0 {
			t.Errorf("the page has an inline script, which the CSP blocks: %q", m[0])
		}
	}
	if m := regexp.MustCompile(`\son[a-z]+=`).Find(page); m != nil {
		t.Errorf("the page has an inline event handler, which the CSP blocks: %q", m)
	}
	for _, asset := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "init.js", "docs.css", "LICENSE", "NOTICE"} {
		r := get("/docs/" + asset)
		if r.StatusCode != 200 {
			t.Errorf("GET /docs/%s: %d", asset, r.StatusCode)
		}
		if r.Header.Get("ETag") == "" {
			t.Errorf("GET /docs/%s: no ETag", asset)
		}
	}
	init := get("/docs/init.js")
	if b, _ := io.ReadAll(init.Body); !bytes.Contains(b, []byte(`"../api/openapi.json"`)) {
		t.Error("init.js does not load ../api/openapi.json")
	}
	if r := get("/docs/swagger-ui-bundle.js", "If-None-Match", get("/docs/swagger-ui-bundle.js").Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating the bundle: %d, want 304", r.StatusCode)
	}
}

// TestDocsPageRenders loads the page in headless Chromium under the CSP and
// checks that Swagger UI rendered the operations. It needs a browser, so it
// runs only with IVSLIVE_BROWSER_TEST=1.
func TestDocsPageRenders(t *testing.T) {
	if os.Getenv("IVSLIVE_BROWSER_TEST") == "" {
		t.Skip("set IVSLIVE_BROWSER_TEST=1 to render the page in Chromium")
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium on PATH")
	}
	srv := docsServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--virtual-time-budget=5000", "--dump-dom", srv.URL+"/docs/").Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	for _, want := range []string{"ivslive API", "/api/token/viewer", "Seat a viewer and issue its token", "/api/stage/{stageArn}"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
}
