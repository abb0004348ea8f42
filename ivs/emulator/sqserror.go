package emulator

import (
	"fmt"
	"net/http"
)

// sqsError is an SQS error: its shape name and its query-compatible code.
type sqsError struct {
	Type, QueryCode string
	Status          int
	Message         string
}

func (e *sqsError) Error() string { return e.Type + ": " + e.Message }

func queueNotFound(format string, args ...any) *sqsError {
	return &sqsError{Type: "QueueDoesNotExist", QueryCode: "AWS.SimpleQueueService.NonExistentQueue", Status: http.StatusBadRequest,
		Message: fmt.Sprintf(format, args...)}
}

func invalidParameter(format string, args ...any) *sqsError {
	return &sqsError{Type: "InvalidParameterValue", QueryCode: "InvalidParameterValue", Status: http.StatusBadRequest,
		Message: fmt.Sprintf(format, args...)}
}

func missingParameter(name string) *sqsError {
	return &sqsError{Type: "MissingParameter", QueryCode: "MissingParameter", Status: http.StatusBadRequest,
		Message: "The request must contain the parameter " + name + "."}
}

var (
	errReceiptInvalid = &sqsError{Type: "ReceiptHandleIsInvalid", QueryCode: "ReceiptHandleIsInvalid", Status: http.StatusNotFound,
		Message: "The input receipt handle is invalid."}
	errMessageNotInflight = &sqsError{Type: "MessageNotInflight", QueryCode: "AWS.SimpleQueueService.MessageNotInflight", Status: http.StatusBadRequest,
		Message: "The message referred to isn't in flight."}
	errEmptyBatch = &sqsError{Type: "EmptyBatchRequest", QueryCode: "AWS.SimpleQueueService.EmptyBatchRequest", Status: http.StatusBadRequest,
		Message: "There should be at least one DeleteMessageBatchRequestEntry in the request."}
	errTooManyEntries = &sqsError{Type: "TooManyEntriesInBatchRequest", QueryCode: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", Status: http.StatusBadRequest,
		Message: "Maximum number of entries per request are 10."}
	errEntryIDsNotDistinct = &sqsError{Type: "BatchEntryIdsNotDistinct", QueryCode: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", Status: http.StatusBadRequest,
		Message: "Two or more batch entries in the request have the same Id."}
)
