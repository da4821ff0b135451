//go:build !unix

package store

import "os"

// processStart is 0 where the start time is not cheap to read.
func processStart(int) uint64 { return 0 }

// processAlive reports whether pid can be found. Owner records are only
// told to waiters; the lock itself is released by the system when its
// owner exits.
func processAlive(pid int, _ uint64) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
