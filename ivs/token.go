package ivs

import (
	"context"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive"
)

// Tokens is the "api" token strategy: every token is a CreateParticipantToken
// call (50 TPS per account). Use key-pair tokens (package token) when you can.
type Tokens struct {
	Client *Client
}

var _ ivslive.TokenIssuer = Tokens{}

// Strategy implements ivslive.TokenIssuer.
func (Tokens) Strategy() string { return "api" }

// IssueToken implements ivslive.TokenIssuer. IVS takes the duration in
// minutes; partial minutes round up so a token never expires early.
func (t Tokens) IssueToken(ctx context.Context, req ivslive.TokenRequest) (ivslive.Token, error) {
	// The same checks as key-pair tokens, before a call spends the quota.
	if err := req.Validate(); err != nil {
		return ivslive.Token{}, err
	}
	minutes := int32(math.Ceil(req.Duration.Minutes()))
	in := &ivsrealtime.CreateParticipantTokenInput{
		StageArn:   aws.String(req.Stage.ARN),
		Duration:   aws.Int32(minutes),
		Attributes: req.Attributes,
	}
	if req.UserID != "" {
		in.UserId = aws.String(req.UserID)
	}
	for _, c := range req.Capabilities {
		in.Capabilities = append(in.Capabilities, types.ParticipantTokenCapability(c))
	}
	var out *ivsrealtime.CreateParticipantTokenOutput
	err := t.Client.call(ctx, "CreateParticipantToken", func(ctx context.Context) (err error) {
		out, err = t.Client.api.CreateParticipantToken(ctx, in)
		return err
	})
	if err != nil {
		if ivslive.ErrorCode(err) == ivslive.EUNAVAILABLE || ivslive.ErrorCode(err) == ivslive.EINTERNAL {
			return ivslive.Token{}, &ivslive.Error{Code: ivslive.ETOKEN, Err: err} // worded by the HTTP layer
		}
		return ivslive.Token{}, err
	}
	pt := out.ParticipantToken
	exp := time.Now().Add(time.Duration(minutes) * time.Minute)
	if pt.ExpirationTime != nil {
		exp = *pt.ExpirationTime
	}
	return ivslive.Token{
		Token:         aws.ToString(pt.Token),
		ParticipantID: aws.ToString(pt.ParticipantId),
		UserID:        req.UserID,
		StageARN:      req.Stage.ARN,
		Capabilities:  req.Capabilities,
		ExpiresAt:     exp,
	}, nil
}
