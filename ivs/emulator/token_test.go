package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// parseToken verifies a token with key and returns its header and claims.
func parseToken(t *testing.T, h *harness, token string, key *ecdsa.PublicKey) (map[string]any, map[string]any) {
	t.Helper()
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"ES384"}), jwt.WithTimeFunc(h.clock.Now), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("verify token: %v", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	return parsed.Header, decodeJSON(t, payload)
}

func TestCreateParticipantToken(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "tokens")
	out, err := h.client.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{
		StageArn:     st.Arn,
		Duration:     aws.Int32(60),
		UserId:       aws.String("user-ü-1"),
		Attributes:   map[string]string{"role": "host", "seat": "1"},
		Capabilities: []types.ParticipantTokenCapability{types.ParticipantTokenCapabilitySubscribe},
	})
	if err != nil {
		t.Fatalf("CreateParticipantToken: %v", err)
	}
	tok := out.ParticipantToken
	pid := aws.ToString(tok.ParticipantId)
	if !regexp.MustCompile(`^[A-Za-z0-9]{12,16}$`).MatchString(pid) {
		t.Errorf("participantId %q is not 12-16 alphanumerics", pid)
	}
	want := &types.ParticipantToken{
		ParticipantId:  tok.ParticipantId,
		Token:          tok.Token,
		UserId:         aws.String("user-ü-1"),
		Attributes:     map[string]string{"role": "host", "seat": "1"},
		Duration:       aws.Int32(60),
		Capabilities:   []types.ParticipantTokenCapability{"SUBSCRIBE"},
		ExpirationTime: aws.Time(time.Date(2026, 5, 1, 13, 0, 0, 123_000_000, time.UTC)),
	}
	if diff := cmp.Diff(want, tok, sdkCmp()); diff != "" {
		t.Errorf("token mismatch (-want +got):\n%s", diff)
	}

	header, claims := parseToken(t, h, aws.ToString(tok.Token), h.em.PublicKey())
	if diff := cmp.Diff(map[string]any{"alg": "ES384", "typ": "JWT", "kid": h.em.KeyID()}, header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if h.em.KeyID() != "arn:aws:ivs:us-east-1:123456789012:public-key/emulator" {
		t.Errorf("KeyID = %q", h.em.KeyID())
	}
	now := h.clock.Now().Unix()
	wantClaims := map[string]any{
		"exp":          float64(now + 3600),
		"iat":          float64(now),
		"jti":          pid,
		"user_id":      "user-ü-1",
		"resource":     aws.ToString(st.Arn),
		"topic":        strings.TrimPrefix(aws.ToString(st.Arn), "arn:aws:ivs:us-east-1:123456789012:stage/"),
		"events_url":   aws.ToString(st.Endpoints.Events),
		"whip_url":     aws.ToString(st.Endpoints.Whip),
		"capabilities": map[string]any{"allow_publish": false, "allow_subscribe": true},
		"attributes":   map[string]any{"role": "host", "seat": "1"},
		"version":      "1.0",
	}
	if diff := cmp.Diff(wantClaims, claims); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
}

func TestCreateParticipantTokenDefaults(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "defaults")
	out, err := h.client.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn})
	if err != nil {
		t.Fatalf("CreateParticipantToken: %v", err)
	}
	tok := out.ParticipantToken
	if aws.ToInt32(tok.Duration) != 720 || tok.UserId != nil || tok.Attributes != nil {
		t.Errorf("token = %+v, want duration 720 and no userId/attributes", tok)
	}
	if diff := cmp.Diff([]types.ParticipantTokenCapability{"PUBLISH", "SUBSCRIBE"}, tok.Capabilities); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
	if want := h.clock.Now().Add(12 * time.Hour).Truncate(time.Millisecond); !aws.ToTime(tok.ExpirationTime).Equal(want) {
		t.Errorf("expirationTime = %v, want %v", tok.ExpirationTime, want)
	}
	_, claims := parseToken(t, h, aws.ToString(tok.Token), h.em.PublicKey())
	var names []string
	for k := range claims {
		names = append(names, k)
	}
	// user_id and attributes are present only when given.
	wantNames := []string{"capabilities", "events_url", "exp", "iat", "jti", "resource", "topic", "version", "whip_url"}
	if diff := cmp.Diff(wantNames, names, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("claim names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"allow_publish": true, "allow_subscribe": true}, claims["capabilities"]); diff != "" {
		t.Errorf("capabilities claim (-want +got):\n%s", diff)
	}
	if got := claims["exp"].(float64) - claims["iat"].(float64); got != 720*60 {
		t.Errorf("exp - iat = %v, want %v", got, 720*60)
	}
}

func TestTokenVerifiesWithJWKS(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "jwks")
	out, err := h.client.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn})
	if err != nil {
		t.Fatalf("CreateParticipantToken: %v", err)
	}
	status, header, body := h.post(t, http.MethodGet, "/.well-known/jwks.json", "")
	if status != http.StatusOK || header.Get("Content-Type") != "application/json" {
		t.Fatalf("JWKS: status %d, content type %q", status, header.Get("Content-Type"))
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("decode JWKS: %v", err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1: %s", len(set.Keys), body)
	}
	k := set.Keys[0]
	for field, want := range map[string]string{"kty": "EC", "crv": "P-384", "kid": h.em.KeyID(), "alg": "ES384", "use": "sig"} {
		if k[field] != want {
			t.Errorf("jwk %s = %q, want %q", field, k[field], want)
		}
	}
	x, errX := base64.RawURLEncoding.DecodeString(k["x"])
	y, errY := base64.RawURLEncoding.DecodeString(k["y"])
	if errX != nil || errY != nil || len(x) != 48 || len(y) != 48 {
		t.Fatalf("jwk coordinates x=%q y=%q are not 48-byte base64url", k["x"], k["y"])
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("parse JWKS key: %v", err)
	}
	parseToken(t, h, aws.ToString(out.ParticipantToken.Token), pub)

	// A token signed by another key must not verify with the JWKS key.
	other := newHarness(t, Options{})
	otherStage := other.createStage(t, "other")
	otherTok, err := other.client.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{StageArn: otherStage.Arn})
	if err != nil {
		t.Fatalf("CreateParticipantToken other: %v", err)
	}
	if _, err := jwt.Parse(aws.ToString(otherTok.ParticipantToken.Token), func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithTimeFunc(h.clock.Now)); err == nil {
		t.Error("a token of another emulator verified with this emulator's JWKS key")
	}
}

func TestCreateParticipantTokenValidation(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "v")
	tests := []struct {
		name   string
		in     ivsrealtime.CreateParticipantTokenInput
		member string
	}{
		{"arn pattern", ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String("arn:aws:ivs:us-east-1:123:channel/abc")}, "'stageArn'"},
		{"arn too long", ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String("arn:aws:ivs:us-east-1:123:stage/" + longString(100))}, "'stageArn'"},
		{"duration 0", ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn, Duration: aws.Int32(0)}, "'duration'"},
		{"duration 20161", ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn, Duration: aws.Int32(20161)}, "'duration'"},
		{"duration negative", ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn, Duration: aws.Int32(-5)}, "'duration'"},
		{"userId too long", ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn, UserId: aws.String(longString(129))}, "'userId'"},
		{"three capabilities", ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn, Capabilities: []types.ParticipantTokenCapability{"PUBLISH", "SUBSCRIBE", "SUBSCRIBE"}}, "'capabilities'"},
		{"capability enum", ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn, Capabilities: []types.ParticipantTokenCapability{"ADMIN"}}, "'capabilities'"},
		{"attributes over 1 KB", ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn, Attributes: map[string]string{"a": longString(600), "b": longString(500)}}, "'attributes'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.CreateParticipantToken(t.Context(), &tt.in)
			wantAPIError[*types.ValidationException](t, err, tt.member)
		})
	}
	// Limits are inclusive.
	ok := []ivsrealtime.CreateParticipantTokenInput{
		{StageArn: st.Arn, Duration: aws.Int32(1)},
		{StageArn: st.Arn, Duration: aws.Int32(20160)},
		{StageArn: st.Arn, UserId: aws.String(longString(128))},
		{StageArn: st.Arn, Attributes: map[string]string{"a": longString(1023)}},
	}
	for _, in := range ok {
		if _, err := h.client.CreateParticipantToken(t.Context(), &in); err != nil {
			t.Errorf("CreateParticipantToken at the limit: %v", err)
		}
	}
	_, err := h.client.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{
		StageArn: aws.String("arn:aws:ivs:us-east-1:123456789012:stage/missing"),
	})
	wantAPIError[*types.ResourceNotFoundException](t, err, "missing")
}

func TestDisconnectParticipant(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "d")
	h.em.SetPublishing(aws.ToString(st.Arn), "p1", true)
	if _, err := h.client.DisconnectParticipant(t.Context(), &ivsrealtime.DisconnectParticipantInput{
		StageArn: st.Arn, ParticipantId: aws.String("p1"), Reason: aws.String("kicked"),
	}); err != nil {
		t.Fatalf("DisconnectParticipant: %v", err)
	}
	got, err := h.client.GetStage(t.Context(), &ivsrealtime.GetStageInput{Arn: st.Arn})
	if err != nil {
		t.Fatalf("GetStage: %v", err)
	}
	session := aws.ToString(got.Stage.ActiveSessionId)
	if session == "" {
		t.Fatal("no activeSessionId right after the only publisher was disconnected; the session ends minutes later")
	}
	p, err := h.client.GetParticipant(t.Context(), &ivsrealtime.GetParticipantInput{StageArn: st.Arn, SessionId: aws.String(session), ParticipantId: aws.String("p1")})
	if err != nil {
		t.Fatalf("GetParticipant: %v", err)
	}
	if p.Participant.State != types.ParticipantStateDisconnected || !p.Participant.Published {
		t.Errorf("disconnected participant: state %s, published %v; want DISCONNECTED, published", p.Participant.State, p.Participant.Published)
	}
	h.clock.Add(3 * time.Minute)
	h.em.Sweep()
	if id := h.activeSession(t, aws.ToString(st.Arn)); id != "" {
		t.Errorf("activeSessionId = %q past the end delay after the only publisher was disconnected", id)
	}
	tests := []struct {
		name string
		in   ivsrealtime.DisconnectParticipantInput
		want func(t *testing.T, err error)
	}{
		{"participant pattern", ivsrealtime.DisconnectParticipantInput{StageArn: st.Arn, ParticipantId: aws.String("a b")},
			func(t *testing.T, err error) { wantAPIError[*types.ValidationException](t, err, "'participantId'") }},
		{"participant too long", ivsrealtime.DisconnectParticipantInput{StageArn: st.Arn, ParticipantId: aws.String(longString(65))},
			func(t *testing.T, err error) { wantAPIError[*types.ValidationException](t, err, "'participantId'") }},
		{"reason too long", ivsrealtime.DisconnectParticipantInput{StageArn: st.Arn, ParticipantId: aws.String("p"), Reason: aws.String(longString(129))},
			func(t *testing.T, err error) { wantAPIError[*types.ValidationException](t, err, "'reason'") }},
		{"stage missing", ivsrealtime.DisconnectParticipantInput{StageArn: aws.String("arn:aws:ivs:us-east-1:123456789012:stage/nope"), ParticipantId: aws.String("p")},
			func(t *testing.T, err error) { wantAPIError[*types.ResourceNotFoundException](t, err) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.DisconnectParticipant(t.Context(), &tt.in)
			tt.want(t, err)
		})
	}
}
