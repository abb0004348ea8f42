package emulator

import (
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/google/go-cmp/cmp"
)

func TestPublicKeyLifecycle(t *testing.T) {
	h := newHarness(t, Options{})
	material := newP384PEM(t)
	out, err := h.client.ImportPublicKey(t.Context(), &ivsrealtime.ImportPublicKeyInput{
		PublicKeyMaterial: aws.String(material),
		Name:              aws.String("signer-1"),
		Tags:              map[string]string{"purpose": "tokens"},
	})
	if err != nil {
		t.Fatalf("ImportPublicKey: %v", err)
	}
	key := out.PublicKey
	if !regexp.MustCompile(`^arn:aws:ivs:us-east-1:123456789012:public-key/[A-Za-z0-9]{12}$`).MatchString(aws.ToString(key.Arn)) {
		t.Errorf("public key ARN %q does not look real", aws.ToString(key.Arn))
	}
	if !regexp.MustCompile(`^([0-9a-f]{2}:){15}[0-9a-f]{2}$`).MatchString(aws.ToString(key.Fingerprint)) {
		t.Errorf("fingerprint %q is not 16 colon-separated hex bytes", aws.ToString(key.Fingerprint))
	}
	want := &types.PublicKey{
		Arn:               key.Arn,
		Name:              aws.String("signer-1"),
		PublicKeyMaterial: aws.String(material),
		Fingerprint:       key.Fingerprint,
		Tags:              map[string]string{"purpose": "tokens"},
	}
	if diff := cmp.Diff(want, key, sdkCmp()); diff != "" {
		t.Errorf("ImportPublicKey (-want +got):\n%s", diff)
	}
	got, err := h.client.GetPublicKey(t.Context(), &ivsrealtime.GetPublicKeyInput{Arn: key.Arn})
	if err != nil {
		t.Fatalf("GetPublicKey: %v", err)
	}
	if diff := cmp.Diff(want, got.PublicKey, sdkCmp()); diff != "" {
		t.Errorf("GetPublicKey (-want +got):\n%s", diff)
	}
	list, err := h.client.ListPublicKeys(t.Context(), &ivsrealtime.ListPublicKeysInput{})
	if err != nil {
		t.Fatalf("ListPublicKeys: %v", err)
	}
	wantList := []types.PublicKeySummary{{Arn: key.Arn, Name: aws.String("signer-1"), Tags: map[string]string{"purpose": "tokens"}}}
	if diff := cmp.Diff(wantList, list.PublicKeys, sdkCmp()); diff != "" {
		t.Errorf("ListPublicKeys (-want +got):\n%s", diff)
	}

	// Imported keys join the JWKS under their ARN.
	_, _, body := h.post(t, http.MethodGet, "/.well-known/jwks.json", "")
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("decode JWKS: %v", err)
	}
	if len(set.Keys) != 2 || set.Keys[1].Kid != aws.ToString(key.Arn) {
		t.Errorf("JWKS = %s, want the emulator key and %s", body, aws.ToString(key.Arn))
	}

	if _, err := h.client.DeletePublicKey(t.Context(), &ivsrealtime.DeletePublicKeyInput{Arn: key.Arn}); err != nil {
		t.Fatalf("DeletePublicKey: %v", err)
	}
	_, err = h.client.GetPublicKey(t.Context(), &ivsrealtime.GetPublicKeyInput{Arn: key.Arn})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	_, err = h.client.DeletePublicKey(t.Context(), &ivsrealtime.DeletePublicKeyInput{Arn: key.Arn})
	wantAPIError[*types.ResourceNotFoundException](t, err)
	_, err = h.client.GetPublicKey(t.Context(), &ivsrealtime.GetPublicKeyInput{Arn: aws.String("arn:aws:ivs:us-east-1:123456789012:stage/abc")})
	wantAPIError[*types.ValidationException](t, err, "'arn'")
}

func TestImportPublicKeyValidation(t *testing.T) {
	h := newHarness(t, Options{})
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generate ed25519 key: %v", err)
	}
	tests := []struct {
		name     string
		material string
		keyName  *string
		want     string
	}{
		{"not PEM", "hello", nil, "publicKeyMaterial"},
		{"private key header", strings.ReplaceAll(newP384PEM(t), "PUBLIC KEY", "PRIVATE KEY"), nil, "publicKeyMaterial"},
		{"garbage body", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", nil, "P-384"},
		{"P-256 key", newECPEM(t, elliptic.P256()), nil, "P-384"},
		{"Ed25519 key", publicPEM(t, edPub), nil, "ECDSA"},
		{"bad name", newP384PEM(t), aws.String("my key"), "'name'"},
		{"name too long", newP384PEM(t), aws.String(longString(129)), "'name'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.ImportPublicKey(t.Context(), &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(tt.material), Name: tt.keyName})
			wantAPIError[*types.ValidationException](t, err, tt.want)
		})
	}
}

func TestImportPublicKeyConflictAndQuota(t *testing.T) {
	h := newHarness(t, Options{})
	material := newP384PEM(t)
	if _, err := h.client.ImportPublicKey(t.Context(), &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(material)}); err != nil {
		t.Fatalf("ImportPublicKey: %v", err)
	}
	// The same key with CRLF line endings is still the same key material.
	crlf := strings.ReplaceAll(material, "\n", "\r\n")
	_, err := h.client.ImportPublicKey(t.Context(), &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(crlf)})
	wantAPIError[*types.ConflictException](t, err, "already imported")
	body, _ := json.Marshal(map[string]string{"publicKeyMaterial": material})
	if status, header, _ := h.post(t, http.MethodPost, "/ImportPublicKey", string(body)); status != http.StatusConflict || header.Get("X-Amzn-ErrorType") != "ConflictException" {
		t.Errorf("raw duplicate import = %d %s, want 409 ConflictException", status, header.Get("X-Amzn-ErrorType"))
	}

	for i := range 2 {
		if _, err := h.client.ImportPublicKey(t.Context(), &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(newP384PEM(t))}); err != nil {
			t.Fatalf("ImportPublicKey %d: %v", i+2, err)
		}
	}
	_, err = h.client.ImportPublicKey(t.Context(), &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(newP384PEM(t))})
	wantAPIError[*types.ServiceQuotaExceededException](t, err, "quota")

	// Three keys, two per page.
	var arns []string
	var token *string
	pages := 0
	for {
		out, err := h.client.ListPublicKeys(t.Context(), &ivsrealtime.ListPublicKeysInput{MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatalf("ListPublicKeys: %v", err)
		}
		pages++
		for _, k := range out.PublicKeys {
			arns = append(arns, aws.ToString(k.Arn))
		}
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if pages != 2 || len(arns) != 3 {
		t.Errorf("listed %d keys in %d pages, want 3 in 2", len(arns), pages)
	}
	_, err = h.client.ListPublicKeys(t.Context(), &ivsrealtime.ListPublicKeysInput{MaxResults: aws.Int32(101)})
	wantAPIError[*types.ValidationException](t, err, "maxResults")
}
