//go:build unix

package app

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on path (creating it) until the returned
// function is called or the process ends, and fails at once when another
// holder has it: another process, or another open in this one.
func lockFile(path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f.Close, nil
}
