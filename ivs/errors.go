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
// boundary: a code, and a reason where the client needs to know which
// resource is missing. IVS's own message stays in the cause, for the log; it
// names ARNs and account details and never reaches a client (the HTTP layer
// chooses the words).
func translate(op string, err error) error {
	// Ours already (the pacer's): keep its code and words.
	var own *ivslive.Error
	if errors.As(err, &own) {
		return own
	}
	// Both services' typed errors (ivsrealtime's and the low-latency ivs
	// service's) are smithy API errors named by the model's shape.
	var api smithy.APIError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS did not answer in time", fmt.Errorf("ivs %s: %w", op, err))
	case !errors.As(err, &api):
		// Transport errors: connection refused, DNS, TLS, exhausted retries.
		return ivslive.WrapError(ivslive.EUNAVAILABLE, "IVS is unreachable", fmt.Errorf("ivs %s: %w", op, err))
	}
	cause := fmt.Errorf("ivs %s: %s: %s: %w", op, api.ErrorCode(), exceptionMessage(api), err)
	switch api.ErrorCode() {
	case "ResourceNotFoundException":
		return &ivslive.Error{Code: ivslive.ENOTFOUND, Reason: missing(op), Err: cause}
	case "ValidationException":
		return ivslive.WrapError(ivslive.EVALIDATION, "IVS rejected the request", cause)
	case "ConflictException":
		return ivslive.WrapError(ivslive.ECONFLICT, "IVS reports a conflict", cause)
	case "ServiceQuotaExceededException":
		if op == "CreateStage" {
			return ivslive.WrapError(ivslive.ESTAGELIMIT, "IVS stage quota reached", cause)
		}
		return ivslive.WrapError(ivslive.EQUOTA, "IVS quota exceeded", cause)
	case "AccessDeniedException", "PendingVerification":
		// The server's credentials or account, not the client's request: a
		// client learns only that AWS failed, the operator reads the log.
		return &ivslive.Error{Code: ivslive.EINTERNAL, Reason: ivslive.RAWSAccess, Err: cause}
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

// missing names what a ResourceNotFoundException of op is about. A
// replication or a composition names several resources (stages, a
// participant, a channel) and IVS says which only in its message, which
// goes to the log.
func missing(op string) string {
	switch op {
	case "GetPublicKey", "DeletePublicKey":
		return ivslive.RPublicKey
	case "GetChannel", "DeleteChannel":
		return ivslive.RChannel
	case "GetPlaybackKeyPair":
		return ivslive.RPlaybackKeyPair
	case "GetComposition", "StopComposition":
		return ivslive.RComposition
	case "GetEncoderConfiguration", "DeleteEncoderConfiguration":
		return ivslive.REncoderConfiguration
	case "StartComposition":
		return ivslive.RCompositionSource
	case "StartParticipantReplication", "StopParticipantReplication", "ListParticipantReplicas":
		return ivslive.RReplicationTarget
	default:
		return ivslive.RStage
	}
}
