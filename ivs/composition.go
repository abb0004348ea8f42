package ivs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive"
)

// StartComposition implements ivslive.Broadcast: one stage into one
// channel, with IVS's default layout (a grid). IVS refuses a composition
// past its quotas (5 per stage, 20 per Region by default) with
// ServiceQuotaExceededException, which arrives as QUOTA_EXCEEDED with
// IVS's words.
func (c *Client) StartComposition(ctx context.Context, in ivslive.StartCompositionInput) (ivslive.Composition, error) {
	dest := &types.ChannelDestinationConfiguration{ChannelArn: aws.String(in.ChannelARN)}
	if in.EncoderConfigurationARN != "" {
		dest.EncoderConfigurationArn = aws.String(in.EncoderConfigurationARN)
	}
	req := &ivsrealtime.StartCompositionInput{
		StageArn:     aws.String(in.StageARN),
		Destinations: []types.DestinationConfiguration{{Channel: dest}},
		Tags:         in.Tags,
	}
	// Without a token of ours the SDK makes one per call, and its retries
	// reuse it; ours makes a retry of the whole operation idempotent too.
	if in.IdempotencyToken != "" {
		req.IdempotencyToken = aws.String(in.IdempotencyToken)
	}
	var out *ivsrealtime.StartCompositionOutput
	err := c.call(ctx, "StartComposition", func(ctx context.Context) (err error) {
		out, err = c.api.StartComposition(ctx, req)
		return err
	})
	if err != nil {
		return ivslive.Composition{}, err
	}
	return compositionFromAWS(out.Composition), nil
}

// GetComposition implements ivslive.Broadcast.
func (c *Client) GetComposition(ctx context.Context, arn string) (ivslive.Composition, error) {
	var out *ivsrealtime.GetCompositionOutput
	err := c.call(ctx, "GetComposition", func(ctx context.Context) (err error) {
		out, err = c.api.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
		return err
	})
	if err != nil {
		return ivslive.Composition{}, err
	}
	return compositionFromAWS(out.Composition), nil
}

// StopComposition implements ivslive.Broadcast.
func (c *Client) StopComposition(ctx context.Context, arn string) error {
	return c.call(ctx, "StopComposition", func(ctx context.Context) error {
		_, err := c.api.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: aws.String(arn)})
		return err
	})
}

// ListCompositions implements ivslive.Broadcast, following every page.
// Summaries name no channel: GetComposition has the destinations' channels.
func (c *Client) ListCompositions(ctx context.Context, stageARN string) ([]ivslive.Composition, error) {
	in := &ivsrealtime.ListCompositionsInput{MaxResults: aws.Int32(100)}
	if stageARN != "" {
		in.FilterByStageArn = aws.String(stageARN)
	}
	var all []ivslive.Composition
	for {
		var out *ivsrealtime.ListCompositionsOutput
		err := c.call(ctx, "ListCompositions", func(ctx context.Context) (err error) {
			out, err = c.api.ListCompositions(ctx, in)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, s := range out.Compositions {
			comp := ivslive.Composition{ARN: aws.ToString(s.Arn), StageARN: aws.ToString(s.StageArn), State: string(s.State),
				Tags: s.Tags, StartTime: aws.ToTime(s.StartTime), EndTime: aws.ToTime(s.EndTime)}
			for _, d := range s.Destinations {
				comp.Destinations = append(comp.Destinations, ivslive.CompositionDestination{ID: aws.ToString(d.Id), State: string(d.State),
					StartTime: aws.ToTime(d.StartTime), EndTime: aws.ToTime(d.EndTime)})
			}
			all = append(all, comp)
		}
		if aws.ToString(out.NextToken) == "" {
			return all, nil
		}
		in.NextToken = out.NextToken
	}
}

// CreateEncoderConfiguration implements ivslive.Broadcast; zero video
// fields take IVS's defaults.
func (c *Client) CreateEncoderConfiguration(ctx context.Context, in ivslive.EncoderConfiguration) (ivslive.EncoderConfiguration, error) {
	video := &types.Video{}
	if in.Width > 0 {
		video.Width = aws.Int32(int32(in.Width))
	}
	if in.Height > 0 {
		video.Height = aws.Int32(int32(in.Height))
	}
	if in.Framerate > 0 {
		video.Framerate = aws.Float32(float32(in.Framerate))
	}
	if in.Bitrate > 0 {
		video.Bitrate = aws.Int32(int32(in.Bitrate))
	}
	var out *ivsrealtime.CreateEncoderConfigurationOutput
	err := c.call(ctx, "CreateEncoderConfiguration", func(ctx context.Context) (err error) {
		out, err = c.api.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{
			Name: aws.String(in.Name), Video: video, Tags: in.Tags})
		return err
	})
	if err != nil {
		return ivslive.EncoderConfiguration{}, err
	}
	return encoderFromAWS(out.EncoderConfiguration), nil
}

// GetEncoderConfiguration implements ivslive.Broadcast.
func (c *Client) GetEncoderConfiguration(ctx context.Context, arn string) (ivslive.EncoderConfiguration, error) {
	var out *ivsrealtime.GetEncoderConfigurationOutput
	err := c.call(ctx, "GetEncoderConfiguration", func(ctx context.Context) (err error) {
		out, err = c.api.GetEncoderConfiguration(ctx, &ivsrealtime.GetEncoderConfigurationInput{Arn: aws.String(arn)})
		return err
	})
	if err != nil {
		return ivslive.EncoderConfiguration{}, err
	}
	return encoderFromAWS(out.EncoderConfiguration), nil
}

// DeleteEncoderConfiguration implements ivslive.Broadcast.
func (c *Client) DeleteEncoderConfiguration(ctx context.Context, arn string) error {
	return c.call(ctx, "DeleteEncoderConfiguration", func(ctx context.Context) error {
		_, err := c.api.DeleteEncoderConfiguration(ctx, &ivsrealtime.DeleteEncoderConfigurationInput{Arn: aws.String(arn)})
		return err
	})
}

func encoderFromAWS(e *types.EncoderConfiguration) ivslive.EncoderConfiguration {
	if e == nil {
		return ivslive.EncoderConfiguration{}
	}
	out := ivslive.EncoderConfiguration{ARN: aws.ToString(e.Arn), Name: aws.ToString(e.Name), Tags: e.Tags}
	if v := e.Video; v != nil {
		out.Width, out.Height = int(aws.ToInt32(v.Width)), int(aws.ToInt32(v.Height))
		out.Framerate, out.Bitrate = float64(aws.ToFloat32(v.Framerate)), int(aws.ToInt32(v.Bitrate))
	}
	return out
}

func compositionFromAWS(c *types.Composition) ivslive.Composition {
	if c == nil {
		return ivslive.Composition{}
	}
	out := ivslive.Composition{ARN: aws.ToString(c.Arn), StageARN: aws.ToString(c.StageArn), State: string(c.State),
		Tags: c.Tags, StartTime: aws.ToTime(c.StartTime), EndTime: aws.ToTime(c.EndTime)}
	for _, d := range c.Destinations {
		dest := ivslive.CompositionDestination{ID: aws.ToString(d.Id), State: string(d.State),
			StartTime: aws.ToTime(d.StartTime), EndTime: aws.ToTime(d.EndTime)}
		if d.Configuration != nil && d.Configuration.Channel != nil {
			dest.ChannelARN = aws.ToString(d.Configuration.Channel.ChannelArn)
		}
		out.Destinations = append(out.Destinations, dest)
	}
	return out
}
