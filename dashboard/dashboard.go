// Package dashboard serves ivslive's live dashboard: a static page, embedded
// in the binary, that reads the API with the operator's key and follows the
// /ws push channel. It needs no build step and loads nothing from elsewhere,
// so it works under the server's Content Security Policy and offline.
package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// static holds the page under static/; Handler serves that folder as its root.
//
//go:embed static
var static embed.FS

// Handler returns a handler serving the dashboard's files, with "/" serving
// index.html. Mount it under a prefix with the prefix stripped:
//
//	mux.Handle("GET /dashboard/", http.StripPrefix("/dashboard", dashboard.Handler()))
//
// Files are sent with "Cache-Control: no-cache" and a content ETag, so a
// browser revalidates on every load and picks up a new binary's page at once
// while an unchanged file costs a 304.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // unreachable: "static" is a valid, embedded path
	}
	etags := hashes(files)
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		if tag, ok := etags[name]; ok {
			h.Set("ETag", tag)
		}
		if ct := contentType(name); ct != "" {
			h.Set("Content-Type", ct)
		}
		fileServer.ServeHTTP(w, r)
	})
}

// hashes returns a strong ETag for every file. Embedded files have no
// modification time, so without an ETag nothing could be revalidated.
func hashes(files fs.FS) map[string]string {
	etags := map[string]string{}
	fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags[name] = `"` + hex.EncodeToString(sum[:12]) + `"`
		return nil
	})
	return etags
}

// contentType pins the types the page depends on: module scripts are refused
// under nosniff unless served as JavaScript, and the system MIME tables
// mime.TypeByExtension consults (/etc/mime.types, the Windows registry) are
// known to map .js to other types.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return ""
}
