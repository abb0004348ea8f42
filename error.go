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

// Error is the one error type of the application. Code is machine readable and
// stable; Message is safe to show to a client; Details is extra structured
// context shown only in development; Err is the underlying cause, logged but
// never sent to a client.
type Error struct {
	Code    string
	Message string
	Details any
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

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

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, or a generic message for any other error so internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "內部伺服器錯誤"
}

// ErrorDetails returns the details of the first *Error in err's chain, if any.
func ErrorDetails(err error) any {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}
