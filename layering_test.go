package ivslive_test

import (
	"os/exec"
	"strings"
	"testing"
)

// deps lists the packages pkg depends on, itself included.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestLayering keeps the core on the domain alone (the house style): live/
// imports no adapter of this module and no JWT library, so a new adapter or
// a change of signer never reaches the services.
func TestLayering(t *testing.T) {
	for _, dep := range deps(t, "./live") {
		inModule := strings.HasPrefix(dep, "github.com/ivslive/ivslive/")
		if (inModule && dep != "github.com/ivslive/ivslive/live") || strings.Contains(dep, "jwt") || strings.Contains(dep, "jose") {
			t.Errorf("live depends on %s; the core may import only the domain (github.com/ivslive/ivslive)", dep)
		}
	}
}

// TestHTTPLayering keeps the HTTP layer off the token signer: it declares
// the session tokens it needs (http.SessionTokens), and the wiring hands it
// token.Sessions.
func TestHTTPLayering(t *testing.T) {
	for _, dep := range deps(t, "./http") {
		if dep == "github.com/ivslive/ivslive/token" || strings.Contains(dep, "jwt") || strings.Contains(dep, "jose") {
			t.Errorf("http depends on %s; it must reach session tokens through http.SessionTokens", dep)
		}
	}
}
