package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// apiError is an AWS error response: its Type goes into X-Amzn-ErrorType,
// which the SDK uses to pick the typed error.
type apiError struct {
	Type    string
	Status  int
	Message string
	// Code is the model's EventErrorCode a data-plane refusal recorded
	// (QUOTA_EXCEEDED, INVALID_VIDEO_CODEC, ...), sent as errorCode.
	Code  string
	allow string // Allow header for 405 answers
}

// errClosed answers data-plane requests after Close.
var errClosed = &apiError{Type: "ServiceUnavailableException", Status: http.StatusServiceUnavailable, Message: "the emulator is shutting down"}

func (e *apiError) Error() string {
	return e.Type + ": " + e.Message
}

func validationErr(format string, args ...any) *apiError {
	return &apiError{Type: "ValidationException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func notFoundErr(format string, args ...any) *apiError {
	return &apiError{Type: "ResourceNotFoundException", Status: http.StatusNotFound, Message: fmt.Sprintf(format, args...)}
}

func conflictErr(format string, args ...any) *apiError {
	return &apiError{Type: "ConflictException", Status: http.StatusConflict, Message: fmt.Sprintf(format, args...)}
}

// quotaErr answers 402, the status the IVS model assigns to this error.
func quotaErr(format string, args ...any) *apiError {
	return &apiError{Type: "ServiceQuotaExceededException", Status: http.StatusPaymentRequired, Message: fmt.Sprintf(format, args...)}
}

func internalErr(err error) *apiError {
	return &apiError{Type: "InternalServerException", Status: http.StatusInternalServerError, Message: err.Error()}
}

// errorBody carries the message twice: the SDK's typed errors read
// exceptionMessage, while generic AWS tooling reads message.
type errorBody struct {
	ExceptionMessage string `json:"exceptionMessage"`
	Message          string `json:"message"`
	ErrorCode        string `json:"errorCode,omitempty"`
}

// writeError writes err as an AWS error response and returns the status.
// Errors that are not *apiError become InternalServerException.
func writeError(w http.ResponseWriter, err error) int {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = internalErr(err)
	}
	if ae.allow != "" {
		w.Header().Set("Allow", ae.allow)
	}
	w.Header().Set("X-Amzn-ErrorType", ae.Type)
	writeJSON(w, ae.Status, errorBody{ExceptionMessage: ae.Message, Message: ae.Message, ErrorCode: ae.Code})
	return ae.Status
}

// writeJSON writes v as the JSON body. A nil v writes {}, which the SDK
// accepts for every operation whose output has no body members.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body := []byte("{}")
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			// Only unencodable types fail here, which is a programming error;
			// answer like AWS would rather than with a half-written body.
			status = http.StatusInternalServerError
			w.Header().Set("X-Amzn-ErrorType", "InternalServerException")
			b, _ = json.Marshal(errorBody{ExceptionMessage: "encode response", Message: "encode response"})
		}
		body = b
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// newRequestID returns a random UUID-shaped request id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlnum returns n characters drawn uniformly from [A-Za-z0-9] with
// crypto/rand; bytes >= 248 are rejected so that no character is favoured.
func randomAlnum(n int) string {
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, alnum[int(b)%len(alnum)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}
