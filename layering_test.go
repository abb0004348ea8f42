package ivslive_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps the core on the domain alone (the house style): live/
// imports no adapter of this module and no JWT library, so a new adapter or
// a change of signer never reaches the services.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./live").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		inModule := strings.HasPrefix(dep, "github.com/ivslive/ivslive/")
		if (inModule && dep != "github.com/ivslive/ivslive/live") || strings.Contains(dep, "jwt") {
			t.Errorf("live depends on %s; the core may import only the domain (github.com/ivslive/ivslive)", dep)
		}
	}
}
