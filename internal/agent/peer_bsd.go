//go:build darwin || freebsd

package agent

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCheckSupported: macOS and FreeBSD report a Unix-domain socket peer's
// credentials (LOCAL_PEERCRED, unix(4); getpeereid(3) reads the same).
const peerCheckSupported = true

// peerUID returns the effective user ID of the process at the other end of
// conn, as the kernel recorded it when that process connected.
func peerUID(conn net.Conn) (int, error) {
	var cred *unix.Xucred
	err := control(conn, func(fd int) error {
		var err error
		cred, err = unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
		return err
	})
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}
