package ivs_test

import (
	"github.com/aws/aws-sdk-go-v2/credentials"

	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/token"
)

// An emulator is known by its id; two emulators with the same account and
// region are two IVSs.
func TestIdentityOfAnEmulator(t *testing.T) {
	a, emA := newClient(t, ivs.Options{})
	b, _ := newClient(t, ivs.Options{})
	idA, err := a.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	idB, err := b.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if idA != "emulator:"+emA.ID()+":123456789012:us-east-1" || idA == idB {
		t.Fatalf("identities %q and %q (emulator A's id %q)", idA, idB, emA.ID())
	}
}

// An endpoint that is not an emulator (an AWS endpoint override) is AWS:
// the account comes from STS, the region from the configuration.
func TestIdentityOfAWS(t *testing.T) {
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("Action") != "GetCallerIdentity" {
			http.Error(w, "unexpected "+r.Form.Get("Action"), 400)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
			`<Arn>arn:aws:iam::444455556666:user/ivslive</Arn><UserId>AIDAEXAMPLE</UserId><Account>444455556666</Account>` +
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`))
	}))
	defer sts.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	notEmulator := httptest.NewServer(http.NotFoundHandler())
	defer notEmulator.Close()
	c, err := ivs.New(context.Background(), ivs.Options{Region: "ap-northeast-1", Endpoint: notEmulator.URL, Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Identity(context.Background())
	if err != nil || id != "aws:444455556666:ap-northeast-1" {
		t.Fatalf("Identity = %q, %v; want aws:444455556666:ap-northeast-1", id, err)
	}
}

// An endpoint that does not answer is unavailable, not AWS.
func TestIdentityOfAnUnreachableEndpoint(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	c, err := ivs.New(context.Background(), ivs.Options{Endpoint: gone.URL, Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Identity(context.Background()); ivslive.ErrorCode(err) != ivslive.EUNAVAILABLE {
		t.Fatalf("Identity of a closed endpoint: %v, want SERVICE_UNAVAILABLE", err)
	}
}

// A key imported before finds itself by its material, however its PEM is
// wrapped; another key is not found.
func TestFindPublicKey(t *testing.T) {
	c, _ := newClient(t, ivs.Options{})
	ctx := context.Background()
	var pems []string
	for i := 0; i < 2; i++ {
		key, err := token.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		pem, err := token.EncodePublicKey(&key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		pems = append(pems, string(pem))
	}
	if _, err := c.ImportPublicKey(ctx, "other", pems[1], nil); err != nil {
		t.Fatal(err)
	}
	imported, err := c.ImportPublicKey(ctx, "ours", pems[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImportPublicKey(ctx, "again", pems[0], nil); ivslive.ErrorCode(err) != ivslive.ECONFLICT {
		t.Fatalf("importing the same key twice: %v, want CONFLICT", err)
	}
	rewrapped := strings.ReplaceAll(pems[0], "\n", "\r\n")
	found, err := c.FindPublicKey(ctx, rewrapped)
	if err != nil || found.ARN != imported.ARN {
		t.Fatalf("FindPublicKey = %+v, %v; want %s", found, err, imported.ARN)
	}
	c2, _ := newClient(t, ivs.Options{})
	if _, err := c2.FindPublicKey(ctx, pems[0]); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Fatalf("FindPublicKey in an emulator without the key: %v, want NOT_FOUND", err)
	}
}
