//go:build !unix

package app

// lockFile does nothing where flock(2) does not exist: two processes on one
// emulator state file are not detected there.
func lockFile(string) (func() error, error) {
	return func() error { return nil }, nil
}
