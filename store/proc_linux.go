//go:build linux

package store

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processStart returns pid's start time in clock ticks after boot (field 22
// of /proc/PID/stat, proc(5)), or 0 when it cannot be read.
func processStart(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses itself: count fields after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0
	}
	n, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// processAlive reports whether pid runs and, when start is not 0, is the
// process that started then (not a later one given the same PID).
func processAlive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if start == 0 {
		return true
	}
	now := processStart(pid)
	return now == 0 || now == start
}
