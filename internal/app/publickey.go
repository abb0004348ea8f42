package app

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"strings"
	"time"

	"github.com/ivslive/ivslive"
	ivshttp "github.com/ivslive/ivslive/http"
	"github.com/ivslive/ivslive/ivs"
	"github.com/ivslive/ivslive/token"
)

// tokenState is what /api/health reports about the token strategy.
type tokenState struct {
	strategy string // "key-pair" or "api"
	keyARN   string
	// verifiedAt is when IVS confirmed that IVS_PUBLIC_KEY_ARN holds the
	// public half of the signing key (zero for a key ivslive imported
	// itself in embedded mode, and for API tokens).
	verifiedAt time.Time
}

// verifyPublicKey checks IVS_PUBLIC_KEY_ARN at start: IVS must know the
// key, in AWS_REGION, and its material must be the public half of the
// configured private key. Otherwise every token signed here would be
// refused when a viewer joins, long after a start that looked fine.
func (a *App) verifyPublicKey(ctx context.Context, client *ivs.Client, arn string, want *ecdsa.PublicKey) error {
	region, ok := publicKeyRegion(arn)
	if !ok {
		return fmt.Errorf("IVS_PUBLIC_KEY_ARN=%q: want arn:aws:ivs:<region>:<account>:public-key/<id>", arn)
	}
	if region != a.cfg.AWSRegion {
		return fmt.Errorf("IVS_PUBLIC_KEY_ARN %s is in region %s but AWS_REGION is %s: IVS verifies tokens only with keys of the stages' region; import the public key there (`ivslive keygen --import`)", arn, region, a.cfg.AWSRegion)
	}
	pk, err := client.GetPublicKey(ctx, arn)
	switch {
	case ivslive.ErrorCode(err) == ivslive.ENOTFOUND:
		return fmt.Errorf("IVS_PUBLIC_KEY_ARN %s does not exist in IVS (%s, %s): import the public key of IVS_PRIVATE_KEY(_FILE) with `ivslive keygen --import` and set the ARN it prints", arn, a.cfg.Backend(), a.cfg.AWSRegion)
	case err != nil:
		return fmt.Errorf("IVS_PUBLIC_KEY_ARN %s: could not check it with GetPublicKey: %w", arn, err)
	}
	got, err := token.ParsePublicKey([]byte(pk.Material))
	if err != nil {
		return fmt.Errorf("IVS_PUBLIC_KEY_ARN %s: IVS returned key material that is not a P-384 public key: %w", arn, err)
	}
	if !got.Equal(want) {
		return fmt.Errorf("IVS_PUBLIC_KEY_ARN %s holds another public key than the half of IVS_PRIVATE_KEY(_FILE): IVS would refuse every token signed here; set the ARN of this key's public half, or import it with `ivslive keygen --import`", arn)
	}
	a.tokens.verifiedAt = a.now().UTC()
	a.log.Info("verified the token signing key in IVS", "arn", arn)
	return nil
}

// publicKeyRegion returns the region of an IVS public key ARN.
func publicKeyRegion(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ivs" || parts[3] == "" || !strings.HasPrefix(parts[5], "public-key/") || len(parts[5]) == len("public-key/") {
		return "", false
	}
	return parts[3], true
}

// tokensCheck reports the token strategy in /api/health (to read keys):
// key-pair or api, the public key's ARN and when IVS confirmed it.
func (a *App) tokensCheck() ivshttp.HealthCheck {
	return ivshttp.HealthCheck{Name: "tokens", Mode: a.tokens.strategy,
		Probe: func(context.Context) (map[string]any, error) {
			info := map[string]any{"strategy": a.tokens.strategy}
			if a.tokens.keyARN != "" {
				info["publicKeyArn"] = a.tokens.keyARN
			}
			if !a.tokens.verifiedAt.IsZero() {
				info["publicKeyVerifiedAt"] = a.tokens.verifiedAt.Format(time.RFC3339)
			}
			return info, nil
		}}
}
