package config

import (
	"errors"
	"fmt"
	"io"
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
	// OthersCanRead is a file holding secrets (credentials.json, or a
	// config.toml with a client_secret) that the group or other users can
	// read.
	OthersCanRead
)

// UntrustedError is a config directory or file that ghlogin refuses to use,
// because another user owns it or could have changed it. Fix is the command
// that makes it trusted.
type UntrustedError struct {
	Path string
	// Dir reports whether Path is a directory: the config directory, or
	// one inside it (Inside).
	Dir bool
	// Inside reports that Path is not the config directory or config.toml
	// but a directory or file that ghlogin keeps inside the config
	// directory: the discovery cache, the locks, a login's owner and
	// result files (CheckInside, ReadInside).
	Inside  bool
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
	switch {
	case e.Inside && e.Dir:
		what = "the directory " + e.Path
	case e.Inside:
		what = "the file " + e.Path
	case e.Dir:
		what = "the config directory " + e.Path
	}
	var why string
	switch e.Problem {
	case OtherOwner:
		why = fmt.Sprintf("it belongs to user %s, not to you (%s), so they can change what ghlogin does with your tokens", e.Owner, e.User)
	case OthersCanRead:
		why = fmt.Sprintf("other users can read it (mode %04o), so the secrets in it may have been exposed", octalMode(e.Mode))
	default:
		why = fmt.Sprintf("other users can write it (mode %04o), so they can change what ghlogin does with your tokens", octalMode(e.Mode))
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

// Everything ghlogin keeps inside the config directory besides config.toml
// and credentials.json — the discovery cache (discovery/), the locks
// (locks/, ghlogin.lock) and the files beside a login in flight — obeys the
// same rules: it belongs to the user (or root) and the group and others
// cannot write it. A file another user could have written could send a
// refresh token to their server (a cached token endpoint) or make a
// process believe a login succeeded.

// CheckInside checks a directory or file inside the config directory, as
// CheckDir and CheckFile do (private: others may not read it either). A
// missing path is fine. Errors are *UntrustedError with Inside set.
func CheckInside(path string, private bool) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot use %s: %w", path, err)
	}
	return inside(checkTrust(path, fi, fi.IsDir(), private))
}

// EnsureInside creates the directory path inside the config directory
// with mode 0700 when it is missing (the config directory itself must
// exist), or checks an existing one (CheckInside).
func EnsureInside(path string) error {
	err := os.Mkdir(path, 0o700)
	switch {
	case err == nil:
		// Mkdir is subject to the umask; make the mode exact.
		if err := os.Chmod(path, 0o700); err != nil {
			return fmt.Errorf("cannot set the mode of %s: %w", path, err)
		}
		return nil
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot use %s: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("cannot use %s: it is not a directory", path)
	}
	return inside(checkTrust(path, fi, true, false))
}

// ReadInside reads a file inside the config directory, at most max bytes,
// after checking the open file (so that it cannot be swapped between the
// check and the read): it must be a regular file that passes CheckInside's
// rules. A missing file gives an error that is fs.ErrNotExist; an
// untrusted one a *UntrustedError with Inside set.
func ReadInside(path string, private bool, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot read %s: it is not a regular file", path)
	}
	if err := inside(checkTrust(path, fi, false, private)); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("cannot read %s: it is larger than %d bytes", path, max)
	}
	return data, nil
}

// inside marks an *UntrustedError as one about a path inside the config
// directory.
func inside(err error) error {
	var ue *UntrustedError
	if errors.As(err, &ue) {
		ue.Inside = true
	}
	return err
}

// octalMode is m as chmod and ls -l show it: the permission bits with the
// setuid, setgid and sticky bits (1777 for /tmp, not 0777).
func octalMode(m fs.FileMode) uint32 {
	o := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		o |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		o |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		o |= 0o1000
	}
	return o
}
