package testenv

import (
	"testing"
	"time"
)

// Eventually polls cond every 20 ms until it holds, failing the test when
// within has passed: for outcomes that arrive asynchronously (media, a
// background DELETE, another process), never for what a clock decides
// (use a fake clock or testing/synctest for those).
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(within, cond) {
		t.Fatalf("%s: not within %v", what, within)
	}
}

// Poll is Eventually for a caller that handles the failure itself: it
// polls cond every 20 ms and reports whether it held before within passed.
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
