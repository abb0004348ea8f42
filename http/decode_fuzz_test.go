package http

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ivslive/ivslive"
)

// FuzzDecode feeds arbitrary bodies and content types to the one request
// decoder, into each request type: it never panics, and every failure is a
// client error (400, 413 or 415) with a message.
func FuzzDecode(f *testing.F) {
	f.Add("application/json", `{"userId":"v1","stageArn":"arn:aws:ivs:us-east-1:123456789012:stage/a"}`)
	f.Add("application/json", `{"name":"n","tags":{"k":"v"}}`)
	f.Add("application/x-www-form-urlencoded", `userId=a&stageArn=b`)
	f.Add("application/x-www-form-urlencoded", `{"userId":"json sent as a form"}`)
	f.Add("", ``)
	f.Add("text/plain", `x`)
	f.Add("application/json; charset=utf-8", `{"userId":1}`)
	s := &Server{Config: Config{MaxBodyBytes: 1 << 16}}
	targets := []func() any{
		func() any { return new(viewerRequest) }, func() any { return new(viewerTokenRequest) },
		func() any { return new(createStageRequest) }, func() any { return new(replicationRequest) },
		func() any { return new(mediaServerRequest) }, func() any { return new(endPublisherRequest) },
		func() any { return new(userRequest) }, func() any { return new(rejoinRequest) },
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		for _, target := range targets {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewBufferString(body))
			if contentType != "" {
				r.Header.Set("Content-Type", contentType)
			}
			err := s.decode(httptest.NewRecorder(), r, target())
			if err == nil {
				continue
			}
			code := ivslive.ErrorCode(err)
			if st := StatusOf(code); st != 400 && st != 413 && st != 415 {
				t.Fatalf("%q %q: %v (status %d)", contentType, body, err, st)
			}
			if ivslive.ErrorMessage(err) == "" {
				t.Fatalf("%q %q: an error without a message", contentType, body)
			}
		}
	})
}

// FuzzClientIP checks that whatever X-Forwarded-For says, the client
// address is an IP address (a forged header never becomes an arbitrary
// rate-limit key) under every trust setting.
func FuzzClientIP(f *testing.F) {
	f.Add("true", "203.0.113.7, 10.0.0.1")
	f.Add("2", "a, b, c")
	f.Add("10.0.0.0/8,192.0.2.1", "198.51.100.1, 10.1.1.1")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, trust, xff string) {
		tp, err := ParseTrustProxy(trust)
		if err != nil {
			return
		}
		s := &Server{Config: Config{TrustProxy: tp}}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.1.1.1:5555"
		r.Header.Set("X-Forwarded-For", xff)
		ip := s.clientIP(r)
		if ip != "10.1.1.1" && !validIP(ip) {
			t.Fatalf("trust %q, XFF %q: client %q is not an address", trust, xff, ip)
		}
	})
}

func validIP(s string) bool {
	return valid(s, "") == s && s != ""
}
