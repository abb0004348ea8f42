package ivs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ivslive/ivslive"
)

// Identity names the IVS the client talks to, so that instances sharing a
// stage store can tell whether they share an IVS: "emulator:<id>:<account>:
// <region>" for an ivslive emulator (whose id lives in its state file), else
// "aws:<account>:<region>", the account from STS GetCallerIdentity. Every
// emulator answers the same account and region by default, hence its id.
func (c *Client) Identity(ctx context.Context) (string, error) {
	if c.endpoint != "" {
		id, isEmulator, err := c.emulatorIdentity(ctx)
		if err != nil || isEmulator {
			return id, err
		}
	}
	out, err := sts.NewFromConfig(c.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", ivslive.WrapError(ivslive.EUNAVAILABLE, "could not confirm the AWS account (STS GetCallerIdentity)", err)
	}
	return "aws:" + aws.ToString(out.Account) + ":" + c.cfg.Region, nil
}

// emulatorIdentity asks the endpoint for the emulator's identity, an
// ivslive extension (GET /_emulator/identity). An endpoint that does not
// answer it with one is not an emulator (an AWS endpoint override).
func (c *Client) emulatorIdentity(ctx context.Context) (id string, isEmulator bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := strings.TrimRight(c.endpoint, "/") + "/_emulator/identity"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", false, fmt.Errorf("IVS endpoint %s: %w", c.endpoint, err)
	}
	hc := http.DefaultClient
	if h, ok := c.cfg.HTTPClient.(*http.Client); ok && h != nil {
		hc = h
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", false, ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS is unreachable", fmt.Errorf("identify the IVS at %s: %w", c.endpoint, err))
	}
	defer resp.Body.Close()
	var who struct {
		EmulatorID string `json:"emulatorId"`
		AccountID  string `json:"accountId"`
		Region     string `json:"region"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&who) != nil || who.EmulatorID == "" {
		return "", false, nil
	}
	return "emulator:" + who.EmulatorID + ":" + who.AccountID + ":" + who.Region, true, nil
}
