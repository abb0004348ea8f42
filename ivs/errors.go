package ivs

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/aws/smithy-go"

	"github.com/ivslive/ivslive"
)

// translate turns an SDK error into an *ivslive.Error at the adapter's
// boundary. The AWS message is kept as the cause for logs; client-facing
// messages are ours.
func translate(op string, err error) error {
	// Ours already (the pacer's): keep its code and words.
	var own *ivslive.Error
	if errors.As(err, &own) {
		return own
	}
	cause := fmt.Errorf("ivs %s: %w", op, err)
	var (
		notFound   *types.ResourceNotFoundException
		validation *types.ValidationException
		conflict   *types.ConflictException
		quota      *types.ServiceQuotaExceededException
		denied     *types.AccessDeniedException
		pending    *types.PendingVerification
		api        smithy.APIError
	)
	switch {
	case errors.As(err, &notFound):
		return ivslive.WrapError(ivslive.ENOTFOUND, notFoundMessage(op, str(notFound.ExceptionMessage)), cause)
	case errors.As(err, &validation):
		return ivslive.WrapError(ivslive.EVALIDATION, "IVS rejected the request: "+str(validation.ExceptionMessage), cause)
	case errors.As(err, &conflict):
		return ivslive.WrapError(ivslive.ECONFLICT, "IVS reports a conflict: "+str(conflict.ExceptionMessage), cause)
	case errors.As(err, &quota):
		if op == "CreateStage" {
			return ivslive.WrapError(ivslive.ESTAGELIMIT, "IVS stage quota reached", cause)
		}
		return ivslive.WrapError(ivslive.EQUOTA, "IVS quota exceeded: "+str(quota.ExceptionMessage), cause)
	case errors.As(err, &denied), errors.As(err, &pending):
		return ivslive.WrapError(ivslive.EINTERNAL, "IVS denied access; check the server's AWS credentials", cause)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS did not answer in time", cause)
	case errors.As(err, &api):
		return ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS is unavailable", cause)
	default:
		// Transport errors: connection refused, DNS, TLS, exhausted retries.
		return ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS is unreachable", cause)
	}
}

// notFoundMessage keeps the seed's "<resource>不存在" wording where the
// resource is clear, and IVS's own words where it is not (a replication can be
// missing because a stage or the publishing participant is).
func notFoundMessage(op, awsMessage string) string {
	switch op {
	case "GetPublicKey", "DeletePublicKey":
		return "Public key不存在"
	case "StartParticipantReplication", "StopParticipantReplication", "ListParticipantReplicas":
		return "IVS: " + awsMessage
	default:
		return "Stage不存在"
	}
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
