package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// TrustProblem says why a config directory or file is not trusted.
type TrustProblem int

// The checks CheckDir and CheckFile make, in the spirit of ssh's StrictModes.
const (
	// OtherOwner is a directory or file that belongs to another user.
	OtherOwner TrustProblem = iota + 1
	// OthersCanWrite is one that the group or other users can write: they
	// could replace what it holds (a token endpoint of theirs, say).
	OthersCanWrite
	// OthersCanRead is a file holding secrets that the group or other
	// users can read.
	OthersCanRead
)

// UntrustedError is a config directory or file that ghlogin refuses to use,
// because another user owns it or could have changed it. Fix is the command
// that makes it trusted.
type UntrustedError struct {
	Path string
	// Dir reports whether Path is the config directory.
	Dir     bool
	Problem TrustProblem
	// Mode is Path's permission bits.
	Mode fs.FileMode
	// Owner is who owns Path and User is who runs ghlogin (names when
	// known, else uids); set for OtherOwner.
	Owner, User string
	// Fix is the command to run, e.g. "chmod go-w /home/a/.config/ghlogin".
	Fix string
}

// Error says what is wrong and the command that fixes it.
func (e *UntrustedError) Error() string {
	what := "the config file " + e.Path
	if e.Dir {
		what = "the config directory " + e.Path
	}
	var why string
	switch e.Problem {
	case OtherOwner:
		why = fmt.Sprintf("it belongs to user %s, not to you (%s), so they can change what ghlogin does with your tokens", e.Owner, e.User)
	case OthersCanRead:
		why = fmt.Sprintf("other users can read it (mode %04o), so the secrets in it may have been exposed", e.Mode.Perm())
	default:
		why = fmt.Sprintf("other users can write it (mode %04o), so they can change what ghlogin does with your tokens", e.Mode.Perm())
	}
	return fmt.Sprintf("ghlogin will not use %s: %s; run: %s", what, why, e.Fix)
}

// CheckDir checks that the config directory dir, when it exists, belongs to
// the user running ghlogin (or root) and cannot be written by the group or others (a
// *UntrustedError otherwise). A missing directory is fine: ghlogin creates
// it with mode 0700.
func CheckDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot use the config directory: %w", err)
	}
	return checkTrust(dir, fi, true, false)
}

// CheckFile checks a file of the config directory, as os.Stat or File.Stat
// described it: it must belong to the user running ghlogin (or root) and not be
// writable by the group or others; with private (a file holding secrets)
// it must not be readable by them either. Errors are *UntrustedError.
func CheckFile(path string, fi fs.FileInfo, private bool) error {
	return checkTrust(path, fi, false, private)
}
