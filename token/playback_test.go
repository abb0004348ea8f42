package token

import (
	"crypto/ecdsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ivslive/ivslive"
)

const testChannel = "arn:aws:ivs:us-east-1:123456789012:channel/AbCdEf123456"

func newPlaybackSigner(t *testing.T, now time.Time) *PlaybackSigner {
	t.Helper()
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewPlaybackSigner(key, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A playback token is IVS's format: an ES384 JWT with the channel ARN,
// origin and exp claims, which golang-jwt and go-jose (a library the signer
// does not use) verify against the public key alone, and a plain ECDSA check
// over the signing input accepts too.
func TestPlaybackTokenVerifiesIndependently(t *testing.T) {
	now := time.Now()
	s := newPlaybackSigner(t, now)
	tok, exp, err := s.PlaybackToken(t.Context(), ivslive.PlaybackTokenRequest{
		ChannelARN: testChannel, AllowOrigin: "https://example.com", Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Truncate(time.Second).Add(time.Hour); !exp.Equal(want) {
		t.Errorf("expires %v, want %v", exp, want)
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return s.PublicKey(), nil },
		jwt.WithValidMethods([]string{"ES384"}), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("golang-jwt refused the token: %v", err)
	}
	if parsed.Header["typ"] != "JWT" || parsed.Header["kid"] != nil {
		t.Errorf("header = %v, want alg ES384, typ JWT and no kid", parsed.Header)
	}
	if claims["aws:channel-arn"] != testChannel || claims["aws:access-control-allow-origin"] != "https://example.com" {
		t.Errorf("claims = %v", claims)
	}
	if e, _ := claims.GetExpirationTime(); e == nil || e.Unix() != exp.Unix() {
		t.Errorf("exp = %v, want %v", e, exp)
	}

	// go-jose, a JWT library the signer does not use, agrees.
	jt, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES384})
	if err != nil {
		t.Fatalf("go-jose could not parse the token: %v", err)
	}
	var std josejwt.Claims
	var aws struct {
		Channel string `json:"aws:channel-arn"`
	}
	if err := jt.Claims(s.PublicKey(), &std, &aws); err != nil {
		t.Fatalf("go-jose refused the signature: %v", err)
	}
	if err := std.ValidateWithLeeway(josejwt.Expected{Time: now}, 0); err != nil || aws.Channel != testChannel {
		t.Errorf("go-jose claims: %v, channel %q", err, aws.Channel)
	}

	// By hand: SHA-384 over header.payload, r||s of 48 bytes each.
	parts := strings.Split(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 96 {
		t.Fatalf("signature: %v, %d bytes", err, len(sig))
	}
	sum := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	r, ss := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
	if !ecdsa.Verify(s.PublicKey(), sum[:], r, ss) {
		t.Error("the ECDSA signature does not verify by hand")
	}
	var header map[string]string
	b, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(b, &header); err != nil || header["alg"] != "ES384" {
		t.Errorf("header %s: %v", b, err)
	}

	// Another key's signer does not pass for this one.
	other := newPlaybackSigner(t, now)
	forged, _, _ := other.PlaybackToken(t.Context(), ivslive.PlaybackTokenRequest{ChannelARN: testChannel, Duration: time.Hour})
	if _, err := jwt.Parse(forged, func(*jwt.Token) (any, error) { return s.PublicKey(), nil }); err == nil {
		t.Error("a token of another key verified")
	}
}

func TestPlaybackTokenRefusesBadInput(t *testing.T) {
	s := newPlaybackSigner(t, time.Now())
	for name, r := range map[string]ivslive.PlaybackTokenRequest{
		"stage arn":       {ChannelARN: "arn:aws:ivs:us-east-1:123456789012:stage/abc", Duration: time.Hour},
		"no duration":     {ChannelARN: testChannel},
		"long viewer id":  {ChannelARN: testChannel, Duration: time.Minute, ViewerID: strings.Repeat("v", 41)},
		"viewer too long": {ChannelARN: testChannel, Duration: 11 * time.Minute, ViewerID: "v1"},
	} {
		if _, _, err := s.PlaybackToken(t.Context(), r); ivslive.ErrorCode(err) != ivslive.EVALIDATION {
			t.Errorf("%s: err = %v, want VALIDATION_ERROR", name, err)
		}
	}
	if _, err := NewPlaybackSigner(nil, nil); err == nil {
		t.Error("a nil key was accepted")
	}
}
