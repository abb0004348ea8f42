package api_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoSchemaLibrary keeps the OpenAPI loader and validator
// (kin-openapi and its JSON-schema library) out of the server binary: the
// contract tests need them, the server serves the document as bytes.
func TestBinaryLinksNoSchemaLibrary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/ivslive/ivslive/cmd/ivslive").Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/ivslive: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/getkin/kin-openapi", "github.com/santhosh-tekuri/jsonschema"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("cmd/ivslive links %s: keep the OpenAPI loader in test files", pkg)
			}
		}
	}
}
