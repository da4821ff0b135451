//go:build unix

package agent

import (
	"os"
	"syscall"
)

// CheckDir accepts dir only if it is a real directory (not a symbolic
// link), owned by the current user, with no permission bits for group or
// others. Errors are *DirError.
func CheckDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return &DirError{Path: dir, Problem: DirUnchecked, Err: err}
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return &DirError{Path: dir, Problem: DirSymlink}
	case !fi.IsDir():
		return &DirError{Path: dir, Problem: DirNotDir}
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok {
		return &DirError{Path: dir, Problem: DirUnchecked}
	} else if int(st.Uid) != os.Getuid() {
		return &DirError{Path: dir, Problem: DirNotOwned, UID: int(st.Uid)}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return &DirError{Path: dir, Problem: DirOpen, Mode: fi.Mode()}
	}
	return nil
}
