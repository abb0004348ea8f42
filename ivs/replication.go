package ivs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive"
)

// reconnectWindow lets a replicated publisher who drops briefly reappear in
// the destination stage without a new StartParticipantReplication (IVS allows
// 0–300 s).
const reconnectWindow = 60

// StartReplication implements ivslive.IVS.
func (c *Client) StartReplication(ctx context.Context, r ivslive.Replication) error {
	return c.call(ctx, "StartParticipantReplication", func(ctx context.Context) error {
		_, err := c.api.StartParticipantReplication(ctx, &ivsrealtime.StartParticipantReplicationInput{
			SourceStageArn:         aws.String(r.SourceStageARN),
			DestinationStageArn:    aws.String(r.DestinationStageARN),
			ParticipantId:          aws.String(r.ParticipantID),
			ReconnectWindowSeconds: aws.Int32(reconnectWindow),
		})
		return err
	})
}

// StopReplication implements ivslive.IVS.
func (c *Client) StopReplication(ctx context.Context, r ivslive.Replication) error {
	return c.call(ctx, "StopParticipantReplication", func(ctx context.Context) error {
		_, err := c.api.StopParticipantReplication(ctx, &ivsrealtime.StopParticipantReplicationInput{
			SourceStageArn:      aws.String(r.SourceStageARN),
			DestinationStageArn: aws.String(r.DestinationStageARN),
			ParticipantId:       aws.String(r.ParticipantID),
		})
		return err
	})
}

// ListReplicas implements ivslive.IVS. It follows every page.
func (c *Client) ListReplicas(ctx context.Context, sourceStageARN, participantID string) ([]ivslive.Replication, error) {
	var reps []ivslive.Replication
	in := &ivsrealtime.ListParticipantReplicasInput{
		SourceStageArn: aws.String(sourceStageARN),
		ParticipantId:  aws.String(participantID),
		MaxResults:     aws.Int32(50),
	}
	for {
		var out *ivsrealtime.ListParticipantReplicasOutput
		err := c.call(ctx, "ListParticipantReplicas", func(ctx context.Context) (err error) {
			out, err = c.api.ListParticipantReplicas(ctx, in)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, r := range out.Replicas {
			if r.ReplicationState != types.ReplicationStateActive {
				continue
			}
			reps = append(reps, ivslive.Replication{
				SourceStageARN:      aws.ToString(r.SourceStageArn),
				DestinationStageARN: aws.ToString(r.DestinationStageArn),
				ParticipantID:       aws.ToString(r.ParticipantId),
			})
		}
		if aws.ToString(out.NextToken) == "" {
			return reps, nil
		}
		in.NextToken = out.NextToken
	}
}
