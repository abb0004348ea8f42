package ivslive_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ivslive/ivslive"
)

// FuzzStageARN checks ARN validation against the IVS model's pattern and
// length, and StageID against the ARN's last segment.
func FuzzStageARN(f *testing.F) {
	f.Add("arn:aws:ivs:us-east-1:123456789012:stage/abcDEF123")
	f.Add("arn:aws:ivs:us-east-1:123456789012:stage/../x")
	f.Add("arn:aws:ivs::1:stage/")
	f.Add(strings.Repeat("a", 200))
	model := regexp.MustCompile(`^arn:aws:ivs:[a-z0-9-]+:[0-9]+:stage/[a-zA-Z0-9-]+$`)
	f.Fuzz(func(t *testing.T, arn string) {
		want := len(arn) >= 1 && len(arn) <= 128 && model.MatchString(arn)
		if got := ivslive.ValidStageARN(arn); got != want {
			t.Fatalf("ValidStageARN(%q) = %v, want %v", arn, got, want)
		}
		if want {
			id := ivslive.StageID(arn)
			if id == "" || strings.ContainsRune(id, '/') || !strings.HasSuffix(arn, "/"+id) {
				t.Fatalf("StageID(%q) = %q", arn, id)
			}
		}
	})
}
