package ivslive_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
)

// ValidTokenRequest is a request every check accepts; tests change one
// thing in it.
func validTokenRequest() ivslive.TokenRequest {
	return ivslive.TokenRequest{Stage: ivslive.Stage{ARN: "arn:aws:ivs:us-east-1:123456789012:stage/abcdEFGH1234"},
		UserID: "viewer-ünïcode", Capabilities: []ivslive.Capability{ivslive.Subscribe}, Duration: time.Hour,
		Attributes: map[string]string{"role": "viewer"}}
}

// InvalidTokenRequests are the requests both token strategies must refuse,
// by name.
var invalidTokenRequests = map[string]func(r *ivslive.TokenRequest){
	"bad arn":              func(r *ivslive.TokenRequest) { r.Stage.ARN = "arn:aws:ivs:us-east-1:1:channel/x" },
	"long user":            func(r *ivslive.TokenRequest) { r.UserID = strings.Repeat("x", 129) },
	"NUL in user":          func(r *ivslive.TokenRequest) { r.UserID = "evil\x00" },
	"newline in user":      func(r *ivslive.TokenRequest) { r.UserID = "a\nb" },
	"invalid UTF-8 user":   func(r *ivslive.TokenRequest) { r.UserID = "\xff\xfe" },
	"zero duration":        func(r *ivslive.TokenRequest) { r.Duration = 0 },
	"15 days":              func(r *ivslive.TokenRequest) { r.Duration = 15 * 24 * time.Hour },
	"no capability":        func(r *ivslive.TokenRequest) { r.Capabilities = nil },
	"unknown capability":   func(r *ivslive.TokenRequest) { r.Capabilities = []ivslive.Capability{"ADMIN"} },
	"repeated capability":  func(r *ivslive.TokenRequest) { r.Capabilities = []ivslive.Capability{ivslive.Publish, ivslive.Publish} },
	"large attributes":     func(r *ivslive.TokenRequest) { r.Attributes = map[string]string{"a": strings.Repeat("x", 1024)} },
	"invalid UTF-8 attr":   func(r *ivslive.TokenRequest) { r.Attributes = map[string]string{"a": "\xc3"} },
	"NUL in attribute key": func(r *ivslive.TokenRequest) { r.Attributes = map[string]string{"a\x00": "b"} },
}

func TestTokenRequestValidate(t *testing.T) {
	if err := validTokenRequest().Validate(); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	names := make([]string, 0, len(invalidTokenRequests))
	for n := range invalidTokenRequests {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := validTokenRequest()
		invalidTokenRequests[n](&r)
		if code := ivslive.ErrorCode(r.Validate()); code != ivslive.EVALIDATION {
			t.Errorf("%s: code %q, want %s", n, code, ivslive.EVALIDATION)
		}
	}
}
