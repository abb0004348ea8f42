package ivs

import (
	"context"
	"errors"
	"fmt"
	"reflect"

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
	// Both services' typed errors (ivsrealtime's and the low-latency ivs
	// service's) are smithy API errors named by the model's shape.
	var api smithy.APIError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS did not answer in time", cause)
	case !errors.As(err, &api):
		// Transport errors: connection refused, DNS, TLS, exhausted retries.
		return ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS is unreachable", cause)
	}
	msg := exceptionMessage(api)
	switch api.ErrorCode() {
	case "ResourceNotFoundException":
		return ivslive.WrapError(ivslive.ENOTFOUND, notFoundMessage(op, msg), cause)
	case "ValidationException":
		return ivslive.WrapError(ivslive.EVALIDATION, "IVS rejected the request: "+msg, cause)
	case "ConflictException":
		return ivslive.WrapError(ivslive.ECONFLICT, "IVS reports a conflict: "+msg, cause)
	case "ServiceQuotaExceededException":
		if op == "CreateStage" {
			return ivslive.WrapError(ivslive.ESTAGELIMIT, "IVS stage quota reached", cause)
		}
		return ivslive.WrapError(ivslive.EQUOTA, "IVS quota exceeded: "+msg, cause)
	case "AccessDeniedException", "PendingVerification":
		return ivslive.WrapError(ivslive.EINTERNAL, "IVS denied access; check the server's AWS credentials", cause)
	}
	return ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS is unavailable", cause)
}

// exceptionMessage is IVS's message. Both SDKs decode it into the typed
// error's ExceptionMessage member (the model's name), not ErrorMessage,
// which only generic errors fill.
func exceptionMessage(api smithy.APIError) string {
	if m := api.ErrorMessage(); m != "" {
		return m
	}
	v := reflect.ValueOf(api)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	if f := v.Elem().FieldByName("ExceptionMessage"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() {
		return f.Elem().String()
	}
	return ""
}

// notFoundMessage keeps the seed's "<resource>不存在" wording where the
// resource is clear, and IVS's own words where it is not (a replication can be
// missing because a stage or the publishing participant is).
func notFoundMessage(op, awsMessage string) string {
	switch op {
	case "GetPublicKey", "DeletePublicKey":
		return "Public key不存在"
	case "GetChannel", "DeleteChannel":
		return "Channel不存在"
	case "GetPlaybackKeyPair":
		return "Playback key pair不存在"
	case "GetComposition", "StopComposition":
		return "Composition不存在"
	case "GetEncoderConfiguration", "DeleteEncoderConfiguration":
		return "Encoder configuration不存在"
	case "StartComposition":
		return "IVS: " + awsMessage
	case "StartParticipantReplication", "StopParticipantReplication", "ListParticipantReplicas":
		return "IVS: " + awsMessage
	default:
		return "Stage不存在"
	}
}
