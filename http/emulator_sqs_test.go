package http_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	ivshttp "github.com/ivslive/ivslive/http"
)

// The emulator's SQS event queue at /ivs/sqs is control plane: whoever
// reads or deletes its messages steers what ivslive believes about the
// host, so EMULATOR_CONTROL guards it like CreateStage.
func TestEmulatorEventQueueIsControlPlane(t *testing.T) {
	receive := func(f emulatorFront, peer string) int {
		r := httptest.NewRequest("POST", "http://127.0.0.1:3000/ivs/sqs", strings.NewReader(`{"QueueUrl":"http://127.0.0.1:3000/ivs/sqs/123456789012/ivslive-events"}`))
		r.RemoteAddr = peer
		r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		r.Header.Set("X-Amz-Target", "AmazonSQS.ReceiveMessage")
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w.Code
	}
	if code := receive(newEmulatorFront(t, ivshttp.Config{}), local); code != 200 {
		t.Errorf("a direct local ReceiveMessage: %d, want 200", code)
	}
	if code := receive(newEmulatorFront(t, ivshttp.Config{}), remote); code != 403 {
		t.Errorf("a remote ReceiveMessage: %d, want 403", code)
	}
	if code := receive(newEmulatorFront(t, ivshttp.Config{EmulatorControl: ivshttp.EmulatorOff}), local); code != 403 {
		t.Errorf("ReceiveMessage with EMULATOR_CONTROL=off: %d, want 403", code)
	}
}
