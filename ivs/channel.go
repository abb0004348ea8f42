package ivs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	ivssdk "github.com/aws/aws-sdk-go-v2/service/ivs"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/ivslive/ivslive"
)

// CreateChannel implements ivslive.Broadcast: always a low-latency
// channel, the kind a composition's audience plays with a few seconds of
// delay.
func (c *Client) CreateChannel(ctx context.Context, in ivslive.CreateChannelInput) (ivslive.Channel, error) {
	req := &ivssdk.CreateChannelInput{
		Name: aws.String(in.Name), LatencyMode: ivstypes.ChannelLatencyModeLowLatency,
		Authorized: in.Authorized, Tags: in.Tags, Type: ivstypes.ChannelType(in.Type),
	}
	var out *ivssdk.CreateChannelOutput
	err := c.call(ctx, "CreateChannel", func(ctx context.Context) (err error) {
		out, err = c.ll.CreateChannel(ctx, req)
		return err
	})
	if err != nil {
		return ivslive.Channel{}, err
	}
	// The stream key (RTMPS ingest) is not kept: compositions need none.
	return channelFromAWS(out.Channel), nil
}

// GetChannel implements ivslive.Broadcast.
func (c *Client) GetChannel(ctx context.Context, arn string) (ivslive.Channel, error) {
	var out *ivssdk.GetChannelOutput
	err := c.call(ctx, "GetChannel", func(ctx context.Context) (err error) {
		out, err = c.ll.GetChannel(ctx, &ivssdk.GetChannelInput{Arn: aws.String(arn)})
		return err
	})
	if err != nil {
		return ivslive.Channel{}, err
	}
	return channelFromAWS(out.Channel), nil
}

// ListChannels implements ivslive.Broadcast. IVS filters channels by name
// or configuration only, so the tags are matched here, on the summaries'
// tags. Summaries have no playback URL; GetChannel has it.
func (c *Client) ListChannels(ctx context.Context, tags map[string]string) ([]ivslive.Channel, error) {
	var channels []ivslive.Channel
	var next *string
	for {
		var out *ivssdk.ListChannelsOutput
		err := c.call(ctx, "ListChannels", func(ctx context.Context) (err error) {
			out, err = c.ll.ListChannels(ctx, &ivssdk.ListChannelsInput{MaxResults: aws.Int32(100), NextToken: next})
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, s := range out.Channels {
			if hasTags(s.Tags, tags) {
				channels = append(channels, ivslive.Channel{
					ARN: aws.ToString(s.Arn), Name: aws.ToString(s.Name), Type: string(s.Type),
					LatencyMode: string(s.LatencyMode), Authorized: s.Authorized, Tags: s.Tags,
				})
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return channels, nil
		}
		next = out.NextToken
	}
}

// hasTags reports whether have holds every pair of want.
func hasTags(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// DeleteChannel implements ivslive.Broadcast.
func (c *Client) DeleteChannel(ctx context.Context, arn string) error {
	return c.call(ctx, "DeleteChannel", func(ctx context.Context) error {
		_, err := c.ll.DeleteChannel(ctx, &ivssdk.DeleteChannelInput{Arn: aws.String(arn)})
		return err
	})
}

// ImportPlaybackKeyPair implements ivslive.Broadcast.
func (c *Client) ImportPlaybackKeyPair(ctx context.Context, name, publicKeyPEM string, tags map[string]string) (ivslive.PlaybackKeyPair, error) {
	var out *ivssdk.ImportPlaybackKeyPairOutput
	err := c.call(ctx, "ImportPlaybackKeyPair", func(ctx context.Context) (err error) {
		out, err = c.ll.ImportPlaybackKeyPair(ctx, &ivssdk.ImportPlaybackKeyPairInput{
			Name: aws.String(name), PublicKeyMaterial: aws.String(publicKeyPEM), Tags: tags})
		return err
	})
	if err != nil {
		return ivslive.PlaybackKeyPair{}, err
	}
	return keyPairFromAWS(out.KeyPair), nil
}

// GetPlaybackKeyPair implements ivslive.Broadcast.
func (c *Client) GetPlaybackKeyPair(ctx context.Context, arn string) (ivslive.PlaybackKeyPair, error) {
	var out *ivssdk.GetPlaybackKeyPairOutput
	err := c.call(ctx, "GetPlaybackKeyPair", func(ctx context.Context) (err error) {
		out, err = c.ll.GetPlaybackKeyPair(ctx, &ivssdk.GetPlaybackKeyPairInput{Arn: aws.String(arn)})
		return err
	})
	if err != nil {
		return ivslive.PlaybackKeyPair{}, err
	}
	return keyPairFromAWS(out.KeyPair), nil
}

func keyPairFromAWS(k *ivstypes.PlaybackKeyPair) ivslive.PlaybackKeyPair {
	if k == nil {
		return ivslive.PlaybackKeyPair{}
	}
	return ivslive.PlaybackKeyPair{ARN: aws.ToString(k.Arn), Name: aws.ToString(k.Name), Fingerprint: aws.ToString(k.Fingerprint), Tags: k.Tags}
}

func channelFromAWS(ch *ivstypes.Channel) ivslive.Channel {
	if ch == nil {
		return ivslive.Channel{}
	}
	return ivslive.Channel{
		ARN: aws.ToString(ch.Arn), Name: aws.ToString(ch.Name), PlaybackURL: aws.ToString(ch.PlaybackUrl),
		IngestEndpoint: aws.ToString(ch.IngestEndpoint), Type: string(ch.Type), LatencyMode: string(ch.LatencyMode),
		Authorized: ch.Authorized, Tags: ch.Tags,
	}
}
