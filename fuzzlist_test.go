package ivslive_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCIFuzzesEveryTarget keeps .ci/fuzz's list complete: a fuzz target that
// is not listed runs only its seed corpus, and nobody notices.
func TestCIFuzzesEveryTarget(t *testing.T) {
	list, err := os.ReadFile(".ci/fuzz")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(list), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[1], "Fuzz") {
			listed[filepath.Clean(f[0])+" "+f[1]] = true
		}
	}
	fuzz := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzz.FindAllStringSubmatch(string(src), -1) {
			if key := filepath.Dir(path) + " " + m[1]; !listed[key] {
				t.Errorf("%s (%s) is not in .ci/fuzz", m[1], path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
