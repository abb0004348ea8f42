package ivs

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"

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
	return ivslive.PublicKey{ARN: aws.ToString(k.Arn), Name: aws.ToString(k.Name), Fingerprint: aws.ToString(k.Fingerprint),
		Material: aws.ToString(k.PublicKeyMaterial)}
}

// FindPublicKey returns the imported public key whose material is the same
// key as material (PEM line breaks and headers aside), or ENOTFOUND. IVS refuses
// to import one key twice (ConflictException), so a key imported before the
// local record of its ARN was lost can only be found this way.
func (c *Client) FindPublicKey(ctx context.Context, material string) (ivslive.PublicKey, error) {
	want, err := publicKeyDER(material)
	if err != nil {
		return ivslive.PublicKey{}, ivslive.WrapError(ivslive.EVALIDATION, "not a PEM public key", err)
	}
	var next *string
	for {
		var out *ivsrealtime.ListPublicKeysOutput
		err := c.call(ctx, "ListPublicKeys", func(ctx context.Context) (err error) {
			out, err = c.api.ListPublicKeys(ctx, &ivsrealtime.ListPublicKeysInput{NextToken: next, MaxResults: aws.Int32(100)})
			return err
		})
		if err != nil {
			return ivslive.PublicKey{}, err
		}
		for _, s := range out.PublicKeys {
			var got *ivsrealtime.GetPublicKeyOutput
			err := c.call(ctx, "GetPublicKey", func(ctx context.Context) (err error) {
				got, err = c.api.GetPublicKey(ctx, &ivsrealtime.GetPublicKeyInput{Arn: s.Arn})
				return err
			})
			if ivslive.ErrorCode(err) == ivslive.ENOTFOUND {
				continue // deleted since the listing
			}
			if err != nil {
				return ivslive.PublicKey{}, err
			}
			if der, err := publicKeyDER(aws.ToString(got.PublicKey.PublicKeyMaterial)); err == nil && bytes.Equal(der, want) {
				return publicKeyFromAWS(got.PublicKey), nil
			}
		}
		if out.NextToken == nil {
			return ivslive.PublicKey{}, ivslive.NotFound(ivslive.RPublicKey)
		}
		next = out.NextToken
	}
}

// publicKeyDER returns the DER of a PEM public key, re-encoded so that two
// encodings of one key compare equal.
func publicKeyDER(material string) ([]byte, error) {
	block, _ := pem.Decode([]byte(material))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKIXPublicKey(key)
}
