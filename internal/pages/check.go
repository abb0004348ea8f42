package pages

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	handlerAttr = regexp.MustCompile(`(?is)<[a-z][^>]*\son[a-z]+\s*=`)
	assetRef    = regexp.MustCompile(`(?i)\s(?:src|href)\s*=\s*"([^"]*)"`)
	importFrom  = regexp.MustCompile(`(?m)^\s*import\b[^"']*["']([^"']+)["']`)
)

// CheckPage fails t unless the HTML file name lives within the server's
// Content Security Policy (same-origin scripts only, no inline script or
// handler) and loads nothing from elsewhere: every src and href is an
// embedded file or one of siblings (pages served under another name). It also
// checks that the page has each of ids.
func CheckPage(t testing.TB, files fs.FS, name string, siblings []string, ids ...string) {
	t.Helper()
	b, err := fs.ReadFile(files, name)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, bad := range []string{"http://", "https://", "//cdn", "javascript:"} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("%s contains %q", name, bad)
		}
	}
	for _, m := range scriptTag.FindAllStringSubmatch(html, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("%s: inline script: %s", name, m[0])
		}
	}
	if m := handlerAttr.FindString(html); m != "" {
		t.Errorf("%s: inline event handler: %s", name, m)
	}
	for _, m := range assetRef.FindAllStringSubmatch(html, -1) {
		if _, err := fs.Stat(files, m[1]); err != nil && !contains(siblings, m[1]) {
			t.Errorf("%s references %q, which is not embedded", name, m[1])
		}
	}
	for _, id := range ids {
		if !strings.Contains(html, `id="`+id+`"`) {
			t.Errorf("%s lacks id %q", name, id)
		}
	}
}

// CheckScripts fails t when the module entry, or one it imports
// transitively, needs what the CSP forbids (eval), writes data as HTML,
// keeps anything beyond the tab (localStorage) or puts a key in a URL. It
// returns the modules' names.
func CheckScripts(t testing.TB, files fs.FS, entry string) []string {
	t.Helper()
	names := Modules(t, files, entry)
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage", "apiKey="} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
	return names
}

// Modules returns entry and every module it imports, transitively, failing
// t when an import names a file that is not embedded.
func Modules(t testing.TB, files fs.FS, entry string) []string {
	t.Helper()
	seen := map[string]bool{}
	var names []string
	queue := []string{entry}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		names = append(names, name)
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatalf("module %s: %v", name, err)
		}
		for _, m := range importFrom.FindAllStringSubmatch(string(b), -1) {
			queue = append(queue, strings.TrimPrefix(m[1], "./"))
		}
	}
	return names
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
