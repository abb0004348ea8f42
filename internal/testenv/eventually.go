package testenv

import (
	"testing"
	"time"
)

// Eventually polls cond every 20 ms until it holds, failing the test when
// within has passed: for outcomes that arrive asynchronously (media, a
// background DELETE), never for what a clock decides.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
