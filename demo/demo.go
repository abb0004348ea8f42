// Package demo serves the "try it" pages of embedded mode: /demo/publish
// sends the camera and microphone to the master stage over WHIP with a
// publisher token, and /demo/watch plays the publisher back through the IVS
// emulator's subscribe path with a viewer token, keeping the viewer's
// presence with its session token. Plain HTML and JavaScript built into the
// binary: no framework, no CDN, nothing the server's Content Security Policy
// forbids. They ask for the API key themselves and keep it in the tab's
// session storage only.
package demo

import (
	"embed"
	"net/http"

	"github.com/ivslive/ivslive/internal/pages"
)

//go:embed static
var static embed.FS

// Handler returns a handler serving the pages ("publish", "watch", and an
// index at "/") and their assets. Mount it with the prefix stripped:
//
//	mux.Handle("GET /demo/", http.StripPrefix("/demo", demo.Handler()))
func Handler() http.Handler {
	return pages.Handler(static, "static", map[string]string{"publish": "publish.html", "watch": "watch.html"})
}
