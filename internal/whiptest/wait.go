package whiptest

import (
	"testing"
	"time"
)

// Eventually polls cond every 10 ms until it holds, failing the test after
// d. It is for outcomes the network decides (a connection, the first
// packets), never for a deadline a clock decides.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
