package ivs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/ivslive/ivslive"
)

// ListParticipants implements ivslive.IVS. It follows every page at the
// model's largest page (100), so a stage of n viewers costs n/100 calls
// of ListParticipants' 5 TPS.
func (c *Client) ListParticipants(ctx context.Context, stageARN, sessionID string, f ivslive.ParticipantFilter) ([]ivslive.Participant, error) {
	in := &ivsrealtime.ListParticipantsInput{
		StageArn:   aws.String(stageARN),
		SessionId:  aws.String(sessionID),
		MaxResults: aws.Int32(100),
	}
	if f.Published {
		in.FilterByPublished = true
	}
	if f.State != "" {
		in.FilterByState = types.ParticipantState(f.State)
	}
	var ps []ivslive.Participant
	for {
		var out *ivsrealtime.ListParticipantsOutput
		err := c.call(ctx, "ListParticipants", func(ctx context.Context) (err error) {
			out, err = c.api.ListParticipants(ctx, in)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, p := range out.Participants {
			ps = append(ps, ivslive.Participant{
				ID:            aws.ToString(p.ParticipantId),
				UserID:        aws.ToString(p.UserId),
				Connected:     p.State == types.ParticipantStateConnected,
				Published:     p.Published,
				FirstJoinTime: aws.ToTime(p.FirstJoinTime),
				Replica:       p.ReplicationType == types.ReplicationTypeReplica,
			})
		}
		if aws.ToString(out.NextToken) == "" {
			return ps, nil
		}
		in.NextToken = out.NextToken
	}
}
