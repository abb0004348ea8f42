// Package pages serves the pages built into the binary (the dashboard, the
// demo pages): embedded files with a content ETag, "Cache-Control: no-cache"
// and pinned content types, so they load from nowhere else, revalidate
// cheaply and work under the server's Content Security Policy.
package pages

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Handler serves the directory dir of files as the root of a prefix
// stripped by the caller: "/" is index.html, and aliases maps extensionless
// page names to files ("publish" → "publish.html").
//
// Files are sent with "Cache-Control: no-cache" and a content ETag, so a
// browser revalidates on every load and picks up a new binary's page at once
// while an unchanged file costs a 304.
func Handler(embedded fs.FS, dir string, aliases map[string]string) http.Handler {
	files, err := fs.Sub(embedded, dir)
	if err != nil {
		panic(err) // unreachable for an embedded directory
	}
	etags := hashes(files)
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		// Only the exact page name: "publish/" would break the page's
		// relative asset URLs.
		if file, ok := aliases[name]; ok && r.URL.Path == "/"+name {
			name = file
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/" + file
			r = r2
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

// contentType pins the types the pages depend on: module scripts are refused
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
