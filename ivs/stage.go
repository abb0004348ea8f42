package ivs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive"
)

// CreateStage implements ivslive.IVS.
func (c *Client) CreateStage(ctx context.Context, in ivslive.CreateStageInput) (ivslive.Stage, error) {
	var out *ivsrealtime.CreateStageOutput
	err := c.call(ctx, "CreateStage", func(ctx context.Context) (err error) {
		out, err = c.api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String(in.Name), Tags: in.Tags})
		return err
	})
	if err != nil {
		return ivslive.Stage{}, err
	}
	return stageFromAWS(out.Stage), nil
}

// GetStage implements ivslive.IVS.
func (c *Client) GetStage(ctx context.Context, arn string) (ivslive.Stage, error) {
	var out *ivsrealtime.GetStageOutput
	err := c.call(ctx, "GetStage", func(ctx context.Context) (err error) {
		out, err = c.api.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(arn)})
		return err
	})
	if err != nil {
		return ivslive.Stage{}, err
	}
	return stageFromAWS(out.Stage), nil
}

// ListStages implements ivslive.IVS.
func (c *Client) ListStages(ctx context.Context, nextToken string, max int) ([]ivslive.StageSummary, string, error) {
	in := &ivsrealtime.ListStagesInput{MaxResults: aws.Int32(int32(max))}
	if nextToken != "" {
		in.NextToken = aws.String(nextToken)
	}
	var out *ivsrealtime.ListStagesOutput
	err := c.call(ctx, "ListStages", func(ctx context.Context) (err error) {
		out, err = c.api.ListStages(ctx, in)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	stages := make([]ivslive.StageSummary, 0, len(out.Stages))
	for _, s := range out.Stages {
		stages = append(stages, ivslive.StageSummary{
			ARN: aws.ToString(s.Arn), Name: aws.ToString(s.Name),
			ActiveSessionID: aws.ToString(s.ActiveSessionId), Tags: s.Tags,
		})
	}
	return stages, aws.ToString(out.NextToken), nil
}

// UpdateStage implements ivslive.IVS.
func (c *Client) UpdateStage(ctx context.Context, arn, name string) (ivslive.Stage, error) {
	in := &ivsrealtime.UpdateStageInput{Arn: aws.String(arn)}
	if name != "" {
		in.Name = aws.String(name)
	}
	var out *ivsrealtime.UpdateStageOutput
	err := c.call(ctx, "UpdateStage", func(ctx context.Context) (err error) {
		out, err = c.api.UpdateStage(ctx, in)
		return err
	})
	if err != nil {
		return ivslive.Stage{}, err
	}
	return stageFromAWS(out.Stage), nil
}

// DeleteStage implements ivslive.IVS.
func (c *Client) DeleteStage(ctx context.Context, arn string) error {
	return c.call(ctx, "DeleteStage", func(ctx context.Context) error {
		_, err := c.api.DeleteStage(ctx, &ivsrealtime.DeleteStageInput{Arn: aws.String(arn)})
		return err
	})
}

// DisconnectParticipant implements ivslive.IVS.
func (c *Client) DisconnectParticipant(ctx context.Context, stageARN, participantID, reason string) error {
	in := &ivsrealtime.DisconnectParticipantInput{StageArn: aws.String(stageARN), ParticipantId: aws.String(participantID)}
	if reason != "" {
		in.Reason = aws.String(reason)
	}
	return c.call(ctx, "DisconnectParticipant", func(ctx context.Context) error {
		_, err := c.api.DisconnectParticipant(ctx, in)
		return err
	})
}

func stageFromAWS(s *types.Stage) ivslive.Stage {
	if s == nil {
		return ivslive.Stage{}
	}
	st := ivslive.Stage{
		ARN:             aws.ToString(s.Arn),
		Name:            aws.ToString(s.Name),
		ActiveSessionID: aws.ToString(s.ActiveSessionId),
		Tags:            s.Tags,
	}
	if e := s.Endpoints; e != nil {
		st.Endpoints = ivslive.StageEndpoints{
			Events: aws.ToString(e.Events), WHIP: aws.ToString(e.Whip),
			RTMP: aws.ToString(e.Rtmp), RTMPS: aws.ToString(e.Rtmps),
		}
	}
	if r := s.AutoParticipantRecordingConfiguration; r != nil {
		rc := &ivslive.RecordingConfig{
			StorageConfigurationARN:         aws.ToString(r.StorageConfigurationArn),
			RecordingReconnectWindowSeconds: r.RecordingReconnectWindowSeconds,
			RecordParticipantReplicas:       r.RecordParticipantReplicas,
		}
		for _, m := range r.MediaTypes {
			rc.MediaTypes = append(rc.MediaTypes, string(m))
		}
		st.Recording = rc
	}
	return st
}
