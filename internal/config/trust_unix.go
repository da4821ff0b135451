//go:build !windows

package config

import (
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// checkTrust applies ssh's StrictModes rules to one directory or file: the
// owner is the effective user (or root, whom the user trusts anyway, as ssh
// allows), and the group and others may not write it (nor read it, when
// private).
func checkTrust(path string, fi fs.FileInfo, dir, private bool) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if me := os.Geteuid(); int(st.Uid) != me && st.Uid != 0 {
			self := userName(strconv.Itoa(me))
			return &UntrustedError{Path: path, Dir: dir, Problem: OtherOwner, Mode: fi.Mode(),
				Owner: userName(strconv.FormatUint(uint64(st.Uid), 10)), User: self,
				Fix: "chown " + self + " " + path}
		}
	}
	mode := fi.Mode().Perm()
	if mode&0o022 != 0 {
		return &UntrustedError{Path: path, Dir: dir, Problem: OthersCanWrite, Mode: fi.Mode(), Fix: "chmod go-w " + path}
	}
	if private && mode&0o077 != 0 {
		return &UntrustedError{Path: path, Dir: dir, Problem: OthersCanRead, Mode: fi.Mode(), Fix: "chmod 600 " + path}
	}
	return nil
}

// userName returns the name of the user with this uid, or the uid itself
// (chown takes either).
func userName(uid string) string {
	if u, err := user.LookupId(uid); err == nil && u.Username != "" {
		return u.Username
	}
	return uid
}
