package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/ivslive/ivslive/internal/whiptest"
)

// selfSigned makes a key-pair participant token for st, as ivslive's token
// package does, with edit applied to the claims.
func selfSigned(t *testing.T, key *ecdsa.PrivateKey, kid string, st *types.Stage, now time.Time, edit func(jwt.MapClaims)) string {
	t.Helper()
	claims := jwt.MapClaims{
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "self-" + randomAlnum(8),
		"resource": aws.ToString(st.Arn), "topic": "x", "events_url": "", "whip_url": "",
		"capabilities": map[string]bool{"allow_publish": true, "allow_subscribe": true}, "version": "1.0",
	}
	if edit != nil {
		edit(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// offer returns a fresh publisher's offer (the publisher closes at cleanup).
func offerFor(t *testing.T, opts whiptest.PublishOptions) string {
	t.Helper()
	p, err := whiptest.NewPublisher(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	o, err := p.Offer()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Token refusals at join: each a precise 4xx, and a JOIN_ERROR event only
// where IVS records one (not for token errors, which IVS does not record).
func TestJoinRefusals(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.createStage(t, "door")
	other := h.createStage(t, "other")
	arn := aws.ToString(st.Arn)
	foreign, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, otherToken := h.token(t, aws.ToString(other.Arn), "", publishCaps...)
	short, err := h.client.CreateParticipantToken(t.Context(), &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Arn, Duration: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	tests := []struct {
		name   string
		token  string
		status int
		msg    string
	}{
		{"no token", "", http.StatusUnauthorized, "Bearer"},
		{"bad signature", selfSigned(t, foreign, h.em.KeyID(), st, now, nil), http.StatusUnauthorized, "not valid"},
		{"unknown kid", selfSigned(t, foreign, "arn:aws:ivs:us-east-1:123456789012:public-key/nope", st, now, nil), http.StatusUnauthorized, "kid"},
		{"another stage's token", otherToken, http.StatusForbidden, "not stage"},
		{"version", selfSigned(t, h.em.signingKey, h.em.KeyID(), st, now, func(c jwt.MapClaims) { c["version"] = "2.0" }), http.StatusUnauthorized, "version"},
		{"lifetime over 14 days", selfSigned(t, h.em.signingKey, h.em.KeyID(), st, now, func(c jwt.MapClaims) {
			c["exp"] = now.Add(15 * 24 * time.Hour).Unix()
		}), http.StatusUnauthorized, "14 days"},
		{"jti pattern", selfSigned(t, h.em.signingKey, h.em.KeyID(), st, now, func(c jwt.MapClaims) { c["jti"] = "a b" }), http.StatusUnauthorized, "jti"},
		{"HS256", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"resource": arn}).SignedString([]byte("k"))
			return s
		}(), http.StatusUnauthorized, "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := whiptest.Post(t.Context(), h.srv.Client(), h.whipURL(st), tt.token, offerFor(t, whiptest.PublishOptions{}))
			if err != nil || resp.Status != tt.status || !strings.Contains(resp.Body, tt.msg) {
				t.Fatalf("POST = %v %+v, want %d mentioning %q", err, resp, tt.status, tt.msg)
			}
		})
	}
	// A token is checked at join only: expired now, refused.
	h.clock.Add(time.Minute)
	resp, err := whiptest.Post(t.Context(), h.srv.Client(), h.whipURL(st), aws.ToString(short.ParticipantToken.Token), offerFor(t, whiptest.PublishOptions{}))
	if err != nil || resp.Status != http.StatusUnauthorized || !strings.Contains(resp.Body, "expired") {
		t.Fatalf("expired token: %v %+v, want 401 expired", err, resp)
	}
	// None of these joined, so nothing was recorded: not even a session.
	sessions, err := h.client.ListStageSessions(t.Context(), &ivsrealtime.ListStageSessionsInput{StageArn: st.Arn})
	if err != nil || len(sessions.StageSessions) != 0 {
		t.Fatalf("sessions after token refusals: %+v, %v; want none", sessions, err)
	}

	// Capabilities are the token's business, and IVS records the refusal.
	subID, subToken := h.token(t, arn, "", subscribeOnly...)
	resp, err = whiptest.Post(t.Context(), h.srv.Client(), h.whipURL(st), subToken, offerFor(t, whiptest.PublishOptions{}))
	if err != nil || resp.Status != http.StatusForbidden || !strings.Contains(resp.Body, "INSUFFICIENT_CAPABILITIES") {
		t.Fatalf("SUBSCRIBE token on WHIP: %v %+v, want 403 INSUFFICIENT_CAPABILITIES", err, resp)
	}
	session := h.activeSession(t, arn)
	if diff := cmp.Diff([]string{"JOIN_ERROR:INSUFFICIENT_CAPABILITIES"}, eventNames(h.events(t, arn, session, subID))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if p := h.participant(t, arn, session, subID); p.State != types.ParticipantStateDisconnected || p.FirstJoinTime != nil {
		t.Errorf("refused participant = %s, firstJoinTime %v; want DISCONNECTED, never joined", p.State, p.FirstJoinTime)
	}

	// A token signed with an imported key (its ARN as kid) is accepted, and
	// it outlives its exp once connected.
	der, err := x509.MarshalPKIXPublicKey(&foreign.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := h.client.ImportPublicKey(t.Context(), &ivsrealtime.ImportPublicKeyInput{
		PublicKeyMaterial: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))})
	if err != nil {
		t.Fatal(err)
	}
	self := selfSigned(t, foreign, aws.ToString(key.PublicKey.Arn), st, h.clock.Now(), func(c jwt.MapClaims) {
		c["jti"], c["user_id"], c["exp"] = "self-host", "me", h.clock.Now().Add(time.Minute).Unix()
	})
	h.publish(t, st, self, whiptest.PublishOptions{})
	h.waitPublishing(t, arn, "self-host")
	h.clock.Add(2 * time.Minute)
	h.em.Sweep()
	if p := h.participant(t, arn, session, "self-host"); p.State != types.ParticipantStateConnected || aws.ToString(p.UserId) != "me" {
		t.Errorf("self-signed publisher past its exp = %s, userId %q; want CONNECTED, me", p.State, aws.ToString(p.UserId))
	}

	// A PUBLISH-only token cannot subscribe.
	pubOnlyID, pubOnly := h.token(t, arn, "", publishOnly...)
	sub, err := whiptest.NewSubscriber(whiptest.Codecs{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	resp, err = sub.Connect(t.Context(), h.srv.Client(), h.whipURL(st)+"/subscribe/self-host", pubOnly)
	if err != nil || resp.Status != http.StatusForbidden {
		t.Fatalf("PUBLISH token subscribing: %v %+v, want 403", err, resp)
	}
	if diff := cmp.Diff([]string{"JOIN_ERROR:INSUFFICIENT_CAPABILITIES"}, eventNames(h.events(t, arn, session, pubOnlyID))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
