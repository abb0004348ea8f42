// Package dashboard serves ivslive's live dashboard: a static page, embedded
// in the binary, that reads the API with the operator's key and follows the
// /ws push channel. It needs no build step and loads nothing from elsewhere,
// so it works under the server's Content Security Policy and offline.
package dashboard

import (
	"embed"
	"net/http"

	"github.com/ivslive/ivslive/internal/pages"
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
	return pages.Handler(static, "static", nil)
}
