package api

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// DocsHandler serves the API reference page and its assets from docs/: Swagger
// UI, vendored so the page needs no CDN and works under the server's
// Content-Security-Policy, rendering GET /api/openapi.json. Mount it under
// /docs/ with the prefix stripped:
//
//	mux.Handle("GET /docs/", http.StripPrefix("/docs/", api.DocsHandler()))
//
// Files carry an ETag of their content: embedded files have no modification
// time, and without a validator browsers would fetch the 1.7 MB bundle on
// every visit.
func DocsHandler() http.Handler {
	sub, err := fs.Sub(files, "docs")
	if err != nil {
		panic("api: docs is not embedded: " + err.Error()) // cannot happen: go:embed checked it
	}
	etags := map[string]string{}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, name)
		sum := sha256.Sum256(b)
		etags[name] = `"` + hex.EncodeToString(sum[:8]) + `"`
		return err
	})
	if err != nil {
		panic("api: reading the embedded docs: " + err.Error())
	}
	fileServer := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if tag, ok := etags[name]; ok {
			w.Header().Set("ETag", tag)
			w.Header().Set("Cache-Control", "no-cache") // revalidate: cheap with the ETag
		}
		fileServer.ServeHTTP(w, r)
	})
}
