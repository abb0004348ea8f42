package token_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/token"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef")
	secretB = []byte("fedcba9876543210fedcba9876543210")
)

func TestSessionTokens(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, err := token.NewSessions(secretA, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	claims := ivslive.SessionClaims{SessionID: "vs-1", UserID: "u", StageARN: "arn:aws:ivs:us-east-1:123456789012:stage/a", Expires: now.Add(time.Hour).Unix()}
	tok := s.Sign(claims)
	got, err := s.Verify(tok)
	if err != nil || got != claims {
		t.Fatalf("verify = %+v, %v", got, err)
	}
	other, _ := token.NewSessions(secretB, func() time.Time { return now })
	late, _ := token.NewSessions(secretA, func() time.Time { return now.Add(2 * time.Hour) })
	forged := strings.Replace(tok, tok[3:10], "AAAAAAA", 1)
	for name, c := range map[string]struct {
		s   *token.Sessions
		tok string
	}{
		"other key": {other, tok}, "expired": {late, tok}, "tampered": {s, forged}, "garbage": {s, "v1.x.y"},
		"empty": {s, ""}, "no version": {s, tok[3:]}, "huge": {s, "v1." + strings.Repeat("a", 5000) + ".b"},
	} {
		if _, err := c.s.Verify(c.tok); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if _, err := token.NewSessions([]byte("short"), nil); err == nil {
		t.Error("a short secret was accepted")
	}
}

func TestSessionSecretCanChange(t *testing.T) {
	s, err := token.NewSessions(secretA, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Sign(ivslive.SessionClaims{SessionID: "a", UserID: "b", StageARN: "c", Expires: 4102444800})
	if err := s.SetSecret([]byte("short")); err == nil {
		t.Fatal("a short secret was accepted")
	}
	if _, err := s.Verify(tok); err != nil {
		t.Fatalf("a refused secret changed the key: %v", err)
	}
	if err := s.SetSecret(secretB); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(tok); err == nil {
		t.Fatal("a token signed with the previous secret still verifies")
	}
}

func TestNewSessionSecretIsRandom(t *testing.T) {
	a, b := token.NewSessionSecret(), token.NewSessionSecret()
	if len(a) < token.MinSessionSecret || string(a) == string(b) {
		t.Fatalf("secrets %q and %q: want two different ones of at least %d bytes", a, b, token.MinSessionSecret)
	}
	if _, err := token.NewSessions(a, nil); err != nil {
		t.Fatal(err)
	}
}

func FuzzSessionVerify(f *testing.F) {
	s, _ := token.NewSessions(secretA, nil)
	f.Add(s.Sign(ivslive.SessionClaims{SessionID: "a", UserID: "b", StageARN: "c", Expires: 4102444800}))
	f.Add("v1..")
	f.Add("v1.e30.")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok)
		if err == nil && (c.SessionID == "" || c.UserID == "" || c.StageARN == "") {
			t.Fatalf("verified a token with empty claims: %q", tok)
		}
	})
}
