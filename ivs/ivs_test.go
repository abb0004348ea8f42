package ivs_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ivslive/ivslive"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/ivs/emulator"
	"github.com/ivslive/ivslive/token"
)

func newClient(t *testing.T, o ivs.Options) (*ivs.Client, *emulator.Emulator) {
	t.Helper()
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	o.Endpoint, o.Credentials = srv.URL, credentials.NewStaticCredentialsProvider("test", "test", "")
	c, err := ivs.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c, em
}

func TestStageRoundTrip(t *testing.T) {
	c, _ := newClient(t, ivs.Options{})
	ctx := context.Background()
	st, err := c.CreateStage(ctx, ivslive.CreateStageInput{Name: "s1", Tags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if !ivslive.ValidStageARN(st.ARN) || st.Endpoints.WHIP == "" || st.Endpoints.Events == "" || st.Tags["k"] != "v" {
		t.Fatalf("created %+v", st)
	}
	got, err := c.GetStage(ctx, st.ARN)
	if err != nil || got.Endpoints != st.Endpoints {
		t.Fatalf("get: %+v %v", got, err)
	}
	if up, err := c.UpdateStage(ctx, st.ARN, "s2"); err != nil || up.Name != "s2" {
		t.Fatalf("update: %+v %v", up, err)
	}
	list, next, err := c.ListStages(ctx, "", 10)
	if err != nil || len(list) != 1 || next != "" {
		t.Fatalf("list: %+v %q %v", list, next, err)
	}
	if err := c.DeleteStage(ctx, st.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetStage(ctx, st.ARN); ivslive.ErrorCode(err) != ivslive.ENOTFOUND {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestErrorTranslation(t *testing.T) {
	c, em := newClient(t, ivs.Options{})
	ctx := context.Background()
	cases := []struct {
		op, awsType string
		status      int
		call        func() error
		want        string
	}{
		{"CreateStage", "ServiceQuotaExceededException", 402, func() error { _, err := c.CreateStage(ctx, ivslive.CreateStageInput{Name: "x"}); return err }, ivslive.ESTAGELIMIT},
		{"StartParticipantReplication", "ServiceQuotaExceededException", 402, func() error {
			return c.StartReplication(ctx, ivslive.Replication{SourceStageARN: "arn:aws:ivs:us-east-1:123456789012:stage/a", DestinationStageARN: "arn:aws:ivs:us-east-1:123456789012:stage/b", ParticipantID: "p"})
		}, ivslive.EQUOTA},
		{"GetStage", "ValidationException", 400, func() error { _, err := c.GetStage(ctx, "arn:aws:ivs:us-east-1:123456789012:stage/a"); return err }, ivslive.EVALIDATION},
		{"UpdateStage", "ConflictException", 409, func() error {
			_, err := c.UpdateStage(ctx, "arn:aws:ivs:us-east-1:123456789012:stage/a", "n")
			return err
		}, ivslive.ECONFLICT},
		{"DeleteStage", "AccessDeniedException", 403, func() error { return c.DeleteStage(ctx, "arn:aws:ivs:us-east-1:123456789012:stage/a") }, ivslive.EINTERNAL},
		{"ListStages", "InternalServerException", 500, func() error { _, _, err := c.ListStages(ctx, "", 1); return err }, ivslive.EUNAVAILABLE},
		{"ListStages", "ThrottlingException", 429, func() error { _, _, err := c.ListStages(ctx, "", 1); return err }, ivslive.EUNAVAILABLE},
	}
	for _, tc := range cases {
		// Enough failures to outlast the SDK's retries.
		em.InjectError(tc.op, tc.awsType, tc.status, 5)
		if got := ivslive.ErrorCode(tc.call()); got != tc.want {
			t.Errorf("%s %s: code %q, want %q", tc.op, tc.awsType, got, tc.want)
		}
		em.InjectError(tc.op, "", 0, 0)
	}
}

func TestAPITokens(t *testing.T) {
	c, em := newClient(t, ivs.Options{})
	ctx := context.Background()
	st, err := c.CreateStage(ctx, ivslive.CreateStageInput{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ivs.Tokens{Client: c}.IssueToken(ctx, ivslive.TokenRequest{
		Stage: st, UserID: "viewer-1", Capabilities: []ivslive.Capability{ivslive.Subscribe}, Duration: 90 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := token.Verify(tok.Token, em.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	// 90 s rounds up to 2 minutes: IVS takes whole minutes, never less.
	if got := claims.ExpiresAt.Sub(claims.IssuedAt.Time); got != 2*time.Minute {
		t.Fatalf("lifetime %v, want 2m", got)
	}
	if claims.ID != tok.ParticipantID || claims.UserID != "viewer-1" || claims.Capabilities.AllowPublish {
		t.Fatalf("claims = %+v", claims)
	}
	em.InjectError("CreateParticipantToken", "InternalServerException", 500, 5)
	_, err = ivs.Tokens{Client: c}.IssueToken(ctx, ivslive.TokenRequest{Stage: st, Capabilities: []ivslive.Capability{ivslive.Subscribe}, Duration: time.Hour})
	if ivslive.ErrorCode(err) != ivslive.ETOKEN {
		t.Fatalf("token with IVS failing: %v, want TOKEN_GENERATION_FAILED", err)
	}
}

// API tokens get the key-pair signer's validation, before any call: a
// request IVS would refuse, or that holds what no participant should see,
// costs no CreateParticipantToken quota.
func TestAPITokensAreValidatedFirst(t *testing.T) {
	var calls atomic.Int32
	c, _ := newClient(t, ivs.Options{Observe: func(op, _ string, _ time.Duration) {
		if op == "CreateParticipantToken" {
			calls.Add(1)
		}
	}})
	ctx := context.Background()
	st, err := c.CreateStage(ctx, ivslive.CreateStageInput{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	ok := ivslive.TokenRequest{Stage: st, UserID: "viewer-1", Capabilities: []ivslive.Capability{ivslive.Subscribe}, Duration: time.Hour}
	bad := map[string]func(r *ivslive.TokenRequest){
		"NUL in user id":     func(r *ivslive.TokenRequest) { r.UserID = "evil\x00" },
		"invalid UTF-8":      func(r *ivslive.TokenRequest) { r.UserID = "\xff" },
		"long user id":       func(r *ivslive.TokenRequest) { r.UserID = strings.Repeat("u", 129) },
		"15 days":            func(r *ivslive.TokenRequest) { r.Duration = 15 * 24 * time.Hour },
		"30 seconds":         func(r *ivslive.TokenRequest) { r.Duration = 30 * time.Second },
		"no capability":      func(r *ivslive.TokenRequest) { r.Capabilities = nil },
		"unknown capability": func(r *ivslive.TokenRequest) { r.Capabilities = []ivslive.Capability{"ADMIN"} },
		"large attributes":   func(r *ivslive.TokenRequest) { r.Attributes = map[string]string{"a": strings.Repeat("x", 1100)} },
	}
	for name, change := range bad {
		r := ok
		change(&r)
		if _, err := (ivs.Tokens{Client: c}).IssueToken(ctx, r); ivslive.ErrorCode(err) != ivslive.EVALIDATION {
			t.Errorf("%s: %v, want VALIDATION_ERROR", name, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d CreateParticipantToken calls for invalid requests, want none", n)
	}
	if _, err := (ivs.Tokens{Client: c}).IssueToken(ctx, ok); err != nil || calls.Load() != 1 {
		t.Fatalf("a valid request: %v, %d calls", err, calls.Load())
	}
}

// Calls beyond the quota wait their turn; one that cannot get a turn before
// the pace deadline fails fast with SERVICE_UNAVAILABLE instead of being
// throttled by AWS.
func TestPacingWaitsThenGivesUp(t *testing.T) {
	c, _ := newClient(t, ivs.Options{Quotas: map[string]float64{"ListStages": 1}, PaceTimeout: 50 * time.Millisecond})
	ctx := context.Background()
	if _, _, err := c.ListStages(ctx, "", 1); err != nil {
		t.Fatalf("first call within quota: %v", err)
	}
	_, _, err := c.ListStages(ctx, "", 1)
	if ivslive.ErrorCode(err) != ivslive.EUNAVAILABLE {
		t.Fatalf("second call in the same second with a 50 ms pace deadline: %v, want SERVICE_UNAVAILABLE", err)
	}
}
