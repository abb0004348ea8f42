package whipfake

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/token"
)

// StageID is the stage of the tokens Token mints by default.
const StageID = "whipfakeStage1"

// Token mints a real key-pair participant token (ES384, a fresh key) whose
// whip_url claim is whipURL, for the stage named by whipURL's last path
// segment, and returns it with its participant id.
func Token(t testing.TB, whipURL string, caps ...ivslive.Capability) (string, string) {
	t.Helper()
	key, err := token.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(key, "arn:aws:ivs:us-east-1:123456789012:public-key/whipfake", nil)
	if err != nil {
		t.Fatal(err)
	}
	id := whipURL[strings.LastIndexByte(whipURL, '/')+1:]
	tok, err := signer.IssueToken(context.Background(), ivslive.TokenRequest{
		Stage: ivslive.Stage{ARN: "arn:aws:ivs:us-east-1:123456789012:stage/" + id,
			Endpoints: ivslive.StageEndpoints{Events: "wss://events.invalid/" + id, WHIP: whipURL}},
		UserID: "whipfake", Capabilities: caps, Duration: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token, tok.ParticipantID
}
