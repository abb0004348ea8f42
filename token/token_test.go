package token_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/token"
)

const (
	stageARN = "arn:aws:ivs:us-east-1:123456789012:stage/oRmLNwuCeMlQ"
	keyARN   = "arn:aws:ivs:us-east-1:123456789012:public-key/abcdefg12345"
)

func testStage() ivslive.Stage {
	return ivslive.Stage{ARN: stageARN, Endpoints: ivslive.StageEndpoints{
		Events: "wss://global.events.live-video.net",
		WHIP:   "https://114ddfabadaf.global-bm.whip.live-video.net",
	}}
}

func newSigner(t *testing.T, now func() time.Time) *token.Signer {
	t.Helper()
	key, err := token.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.NewSigner(key, keyARN, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSignerTokenHasTheDocumentedFormat(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	key, _ := token.GenerateKey()
	s, _ := token.NewSigner(key, keyARN, func() time.Time { return now })
	tok, err := s.IssueToken(context.Background(), ivslive.TokenRequest{
		Stage:         testStage(),
		UserID:        "viewer-v1",
		ParticipantID: "Mx6clRRHODPy",
		Capabilities:  []ivslive.Capability{ivslive.Subscribe},
		Duration:      time.Hour,
		Attributes:    map[string]string{"role": "viewer"},
	})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	header := decodeSegment(t, parts[0])
	if diff := cmp.Diff(map[string]any{"alg": "ES384", "typ": "JWT", "kid": keyARN}, header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	claims := decodeSegment(t, parts[1])
	want := map[string]any{
		"exp":          float64(now.Add(time.Hour).Unix()),
		"iat":          float64(now.Unix()),
		"jti":          "Mx6clRRHODPy",
		"user_id":      "viewer-v1",
		"resource":     stageARN,
		"topic":        "oRmLNwuCeMlQ",
		"events_url":   "wss://global.events.live-video.net",
		"whip_url":     "https://114ddfabadaf.global-bm.whip.live-video.net",
		"capabilities": map[string]any{"allow_publish": false, "allow_subscribe": true},
		"attributes":   map[string]any{"role": "viewer"},
		"version":      "1.0",
	}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if !tok.ExpiresAt.Equal(now.Add(time.Hour)) || tok.ParticipantID != "Mx6clRRHODPy" {
		t.Errorf("token = %+v", tok)
	}
}

func TestVerify(t *testing.T) {
	key, _ := token.GenerateKey()
	s, _ := token.NewSigner(key, keyARN, nil)
	req := ivslive.TokenRequest{Stage: testStage(), UserID: "u", Capabilities: []ivslive.Capability{ivslive.Publish}, Duration: time.Hour}
	tok, err := s.IssueToken(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	pub := s.PublicKey()
	c, err := token.Verify(tok.Token, pub)
	if err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if !c.Capabilities.AllowPublish || c.Capabilities.AllowSubscribe || c.ID != tok.ParticipantID {
		t.Errorf("claims = %+v", c)
	}
	if got := len(c.ID); got != 16 || strings.ContainsAny(c.ID, "_-") {
		t.Errorf("participant id %q: want 16 alphanumerics", c.ID)
	}

	t.Run("tampered payload", func(t *testing.T) {
		parts := strings.Split(tok.Token, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		payload = []byte(strings.Replace(string(payload), `"allow_subscribe":false`, `"allow_subscribe":true`, 1))
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
		if _, err := token.Verify(forged, pub); err == nil {
			t.Fatal("tampered token verified")
		}
	})
	t.Run("other key", func(t *testing.T) {
		other, _ := token.GenerateKey()
		if _, err := token.Verify(tok.Token, &other.PublicKey); err == nil {
			t.Fatal("token verified with a different key")
		}
	})
	t.Run("inspect", func(t *testing.T) {
		other, _ := token.GenerateKey()
		foreign, _ := token.NewSigner(other, keyARN, func() time.Time { return time.Now().Add(-2 * time.Hour) })
		old, err := foreign.IssueToken(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		// Inspect reads a token whatever signed it and however old it is.
		c, err := token.Inspect(old.Token)
		if err != nil || c.WHIPURL != testStage().Endpoints.WHIP || c.ID != old.ParticipantID {
			t.Fatalf("Inspect = %+v, %v", c, err)
		}
		if _, err := token.Inspect("not.a.token"); err == nil {
			t.Fatal("Inspect read garbage")
		}
	})
	t.Run("expired", func(t *testing.T) {
		past, err := token.NewSigner(key, keyARN, func() time.Time { return time.Now().Add(-2 * time.Hour) })
		if err != nil {
			t.Fatal(err)
		}
		old, err := past.IssueToken(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := token.Verify(old.Token, pub); err == nil {
			t.Fatal("expired token verified")
		}
	})
}
