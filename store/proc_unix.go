//go:build unix && !linux

package store

import (
	"errors"
	"syscall"
)

// processStart is 0 where the start time is not cheap to read.
func processStart(int) uint64 { return 0 }

// processAlive reports whether pid runs (signal 0, kill(2)).
func processAlive(pid int, _ uint64) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
