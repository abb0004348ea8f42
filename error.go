// Package ivslive is the domain of the ivslive control plane: stages, viewers,
// sessions, tokens and the one error type every layer speaks. It imports only
// the standard library; adapters (ivs, memory, redis, sqlite, postgres, http)
// implement or consume the interfaces declared here, and cmd/ivslive wires them.
package ivslive

import (
	"errors"
	"fmt"
)

// Error codes. The first group is the Node server's contract (its ERROR_CODES
// plus the literal strings it sends); the rest are ours. Only the HTTP layer
// maps a code to a status.
const (
	EVALIDATION   = "VALIDATION_ERROR"
	EUNAUTHORIZED = "UNAUTHORIZED"
	EFORBIDDEN    = "FORBIDDEN"
	ENOTFOUND     = "NOT_FOUND"
	ESTAGEFULL    = "STAGE_FULL"
	ESTAGELIMIT   = "STAGE_LIMIT_REACHED"
	ETOKEN        = "TOKEN_GENERATION_FAILED"
	EINTERNAL     = "INTERNAL_ERROR"
	ERATELIMIT    = "TOO_MANY_REQUESTS"
	EUNAVAILABLE  = "SERVICE_UNAVAILABLE"

	ECONFLICT  = "CONFLICT"
	EQUOTA     = "QUOTA_EXCEEDED"
	ETOOLARGE  = "PAYLOAD_TOO_LARGE"
	EMEDIATYPE = "UNSUPPORTED_MEDIA_TYPE"
	EMETHOD    = "METHOD_NOT_ALLOWED"
)

// Reasons say which thing an error is about where a client needs to know it
// (which resource is missing, why a stage refuses a seat). Adapters and the
// core set a reason instead of writing words; the HTTP layer chooses the
// client-facing text of each one in one place (http/messages.go), so the
// same condition reads the same whichever adapter found it.
const (
	RStage                = "stage"                 // a stage ivslive or IVS does not know
	RPublisher            = "publisher"             // no host is live
	RSession              = "session"               // no such viewer session
	RPublicKey            = "public_key"            // an IVS public key
	RChannel              = "channel"               // an IVS low-latency channel
	RPlaybackKeyPair      = "playback_key_pair"     // an IVS playback key pair
	RComposition          = "composition"           // an IVS composition
	REncoderConfiguration = "encoder_configuration" // an IVS encoder configuration
	RReplicationTarget    = "replication_target"    // a stage or participant a replication names
	RCompositionSource    = "composition_source"    // a stage or channel a composition names
	RStageFull            = "stage_full"            // the stage has no free seat
	RStageClosing         = "stage_closing"         // the stage is draining
	RMasterStage          = "master_stage"          // the master stage cannot be deleted
	RStageHasViewers      = "stage_has_viewers"     // a stage with viewers cannot be deleted
	RMasterNotReady       = "master_not_ready"      // the master stage is not set up yet
	RAWSAccess            = "aws_access"            // AWS refused the server's own credentials
	RMissingField         = "missing_field"         // Args: the field's name
	RShortStageID         = "short_stage_id"        // a full ARN where a short stage id belongs
	RStageLimit           = "stage_limit"           // Args: MAX_STAGES
	RSubscriptionsQuota   = "subscriptions_quota"   // Args: the account's concurrent-subscriptions quota
	RStagesFull           = "stages_full"           // Args: stages with the host, seats per stage
	RCompositionRefused   = "composition_refused"   // Args: the error that kept the composition from starting
	RHistoryUnavailable   = "history_unavailable"   // the history database failed
	RDatabaseUnavailable  = "database_unavailable"  // a store's database failed
	RDatabaseRefused      = "database_refused"      // a database constraint refused a value
)

// Error is the one error type of the application. Code is machine readable and
// stable; Reason names what the error is about (one of the R constants) for
// the HTTP layer to put in words, and Args are the values those words name
// (a limit, a count, an inner error), in order; Message is text safe to show a client when
// there is no reason (often naming a field or a limit); Details is extra
// structured context shown only in development; Err is the underlying cause,
// logged but never sent to a client.
type Error struct {
	Code    string
	Reason  string
	Args    []any
	Message string
	Details any
	Err     error
}

// Error implements the error interface, for logs.
func (e *Error) Error() string {
	text := e.Code
	if e.Message != "" {
		text += ": " + e.Message
	} else if e.Reason != "" {
		text += ": " + e.Reason
		for _, a := range e.Args {
			if _, isErr := a.(error); !isErr { // an error argument is the cause, printed below
				text += fmt.Sprintf(" %v", a)
			}
		}
	}
	if e.Err != nil {
		text += ": " + e.Err.Error()
	}
	return text
}

// ReasonError returns an *Error with the given code about what reason names,
// with the values its words name; the HTTP layer chooses the words.
func ReasonError(code, reason string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Args: args}
}

// WithCause returns a copy of e that keeps err as its cause for logs.
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// NotFound returns a NOT_FOUND error about the thing reason names.
func NotFound(reason string) *Error { return ReasonError(ENOTFOUND, reason) }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message that keeps err as
// its cause for logs.
func WrapError(code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// WithDetails returns a copy of e carrying details (shown in development only).
func (e *Error) WithDetails(details any) *Error {
	c := *e
	c.Details = details
	return &c
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain (its
// reason when it has no message), or a generic message for any other error
// so internals never leak. Clients read http.Message instead, which puts
// reasons into words.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Message == "" {
			return e.Reason
		}
		return e.Message
	}
	return "internal error"
}

// ErrorReason returns the reason of the first *Error in err's chain, if any.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrorDetails returns the details of the first *Error in err's chain, if any.
func ErrorDetails(err error) any {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}
