package ivs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive"
)

// ImportPublicKey implements ivslive.IVS.
func (c *Client) ImportPublicKey(ctx context.Context, name, pem string, tags map[string]string) (ivslive.PublicKey, error) {
	in := &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(pem), Tags: tags}
	if name != "" {
		in.Name = aws.String(name)
	}
	var out *ivsrealtime.ImportPublicKeyOutput
	err := c.call(ctx, "ImportPublicKey", func(ctx context.Context) (err error) {
		out, err = c.api.ImportPublicKey(ctx, in)
		return err
	})
	if err != nil {
		return ivslive.PublicKey{}, err
	}
	return publicKeyFromAWS(out.PublicKey), nil
}

// GetPublicKey implements ivslive.IVS.
func (c *Client) GetPublicKey(ctx context.Context, arn string) (ivslive.PublicKey, error) {
	var out *ivsrealtime.GetPublicKeyOutput
	err := c.call(ctx, "GetPublicKey", func(ctx context.Context) (err error) {
		out, err = c.api.GetPublicKey(ctx, &ivsrealtime.GetPublicKeyInput{Arn: aws.String(arn)})
		return err
	})
	if err != nil {
		return ivslive.PublicKey{}, err
	}
	return publicKeyFromAWS(out.PublicKey), nil
}

func publicKeyFromAWS(k *types.PublicKey) ivslive.PublicKey {
	if k == nil {
		return ivslive.PublicKey{}
	}
	return ivslive.PublicKey{ARN: aws.ToString(k.Arn), Name: aws.ToString(k.Name), Fingerprint: aws.ToString(k.Fingerprint)}
}
